import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { createPtyPair } from '../../test-rigs/serial/pty.js';
import type { ProbeSweep } from '../../drivers/modbus/module.js';
import { runCli, startCli } from '../../test-rigs/harness/run-cli.js';

/** `edge-gateway probe` through the built CLI, against the TCP simulator and a socat pty. */
let sim: ModbusTcpSimulator;

beforeAll(async () => {
  sim = await startModbusTcpSimulator({ units: { 1: {}, 3: { size: { holding: 5 } } }, unknownUnit: 'silence', clock: 'manual' });
  sim.unit(1).setValue('holding', 10, { type: 'float32', byteOrder: 'little', wordOrder: 'little' }, 21.5);
});

afterAll(async () => {
  await sim?.stop();
});

describe('edge-gateway probe modbus', () => {
  it('finds the answering units over TCP and prints raw registers and every decoding', async () => {
    const r = await runCli(['probe', 'modbus', '--host', sim.host, '--tcp-port', String(sim.port), '--unit', '1-4', '--register', '10', '--count', '2', '--timeout', '150']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`probing tcp ${sim.host}:${sim.port}: units 1-4, holding 10+2\n`);
    expect(r.stdout).toContain('unit 1 answered: holding 10..11 = 0x0000 0xac41\n');
    expect(r.stdout).toMatch(/^ADDR +TYPE +ABCD big\/big +BADC little\/big +CDAB big\/little +DCBA little\/little$/m);
    // 21.5 as float32 shows up only in the byte/word order it was written in.
    const float = r.stdout.split('\n').find((l) => /^10 +float32 /.test(l));
    const cells = float!.trim().split(/ +/);
    expect(cells).toHaveLength(6);
    expect(cells[5]).toBe('21.5');
    expect(cells.slice(2, 5)).not.toContain('21.5');
    expect(r.stdout).toMatch(/^unit 3 answered with an exception: .*ILLEGAL DATA ADDRESS.* \(MODBUS_EXCEPTION_2\)$/m);
    expect(r.stdout).toMatch(/^2 unit\(s\) answered: 1, 3; 2 silent$/m);
  }, 30_000);

  it('--json gives the sweep as data', async () => {
    const r = await runCli(['probe', 'modbus', '--host', sim.host, '--tcp-port', String(sim.port), '--unit', '1,2', '--register', '10', '--json', '--timeout', '150']);
    expect(r.code).toBe(0);
    const [sweep] = JSON.parse(r.stdout) as ProbeSweep[];
    expect(sweep!.absent).toEqual([{ unitId: 2, code: 'ETIMEDOUT' }]);
    expect(sweep!.answered[0]).toMatchObject({ unitId: 1, status: 'data', registers: [0x0000, 0xac41] });
  }, 30_000);

  it('plain errors: nothing listening, a missing serial port, bad options', async () => {
    const closed = await runCli(['probe', 'modbus', '--host', '127.0.0.1', '--tcp-port', '1', '--unit', '1', '--register', '0']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toBe('edge-gateway probe modbus: cannot connect to 127.0.0.1:1: nothing listens on 127.0.0.1:1 (is the device on, Modbus TCP enabled, the port right?)\n');

    const missing = await runCli(['probe', 'modbus', '--port', '/dev/serial/by-id/usb-nothing', '--register', '0', '--unit', '1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('edge-gateway probe modbus: serial port /dev/serial/by-id/usb-nothing not found (is the adapter plugged in?)\n');

    const both = await runCli(['probe', 'modbus', '--port', '/dev/ttyX', '--host', 'h', '--register', '0']);
    expect(both.stderr).toBe('edge-gateway probe modbus: give either --port PATH (RTU) or --host HOST (TCP)\n');
    const units = await runCli(['probe', 'modbus', '--host', 'h', '--register', '0', '--unit', '0-300']);
    expect(units.stderr).toBe('edge-gateway probe modbus: --unit "0-300": unit ids are 1..247, low-high\n');
    for (const r of [both, units]) expect(r.code).toBe(1);
  }, 30_000);
});

describe('edge-gateway probe modbus over RTU', () => {
  it('opens a real serial line (socat pty) and finds the one unit a modbus-serial RTU server answers for', async () => {
    const pair = await createPtyPair();
    const holding = (addr: number) => addr * 100 + 7;
    const server = new modbusSerial.ServerSerial(
      { getHoldingRegister: (addr: number) => holding(addr) },
      { path: pair.b, baudRate: 19200, unitID: 5 },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('initialized', () => resolve());
        setTimeout(() => reject(new Error('RTU server did not open its end of the pty')), 5000);
      });
      const r = await runCli(['probe', 'modbus', '--port', pair.a, '--baud', '19200', '--parity', 'none', '--unit', '4-6', '--register', '2', '--count', '2', '--timeout', '300']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`probing rtu ${pair.a} 19200 8N1: units 4,5,6, holding 2+2\n`);
      const hex = [holding(2), holding(3)].map((v) => `0x${v.toString(16).padStart(4, '0')}`).join(' ');
      expect(r.stdout).toContain(`unit 5 answered: holding 2..3 = ${hex}\n`);
      expect(r.stdout).toMatch(new RegExp(`^2 +uint16 +${holding(2)} `, 'm'));
      expect(r.stdout).toMatch(/^1 unit\(s\) answered: 5; 2 silent$/m);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await pair.close();
    }
  }, 30_000);
});

describe('edge-gateway probe serial', () => {
  it('prints timestamped lines from a real pty and stops after --lines', async () => {
    const pair = await createPtyPair();
    const writer = new PtyWriter(pair.b);
    try {
      const probe = startCli(['probe', 'serial', '--port', pair.a, '--baud', '9600', '--lines', '3']);
      // The probe opens the port asynchronously: keep the device talking until three lines are in.
      let n = 0;
      const deadline = Date.now() + 10_000;
      while (probe.child.exitCode === null && Date.now() < deadline) {
        await writer.write(`WS T=2${n++ % 10}.5 \x02\r\n`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await probe.done;
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}WS T=2\d\.5 \\x02$/);
    } finally {
      await writer.close();
      await pair.close();
    }
  }, 30_000);

  it('a missing port is a plain one-line error', async () => {
    const r = await runCli(['probe', 'serial', '--port', '/dev/serial/by-id/usb-nothing', '--baud', '9600']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('edge-gateway probe serial: serial port /dev/serial/by-id/usb-nothing not found (is the adapter plugged in?)\n');
  }, 15_000);
});
