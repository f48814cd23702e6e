import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { createPtyPair } from '../../test-rigs/serial/pty.js';
import type { ProbeSweep } from '../../drivers/modbus/module.js';
import { runCli, startCli } from '../../test-rigs/harness/run-cli.js';
import { parse as parseYaml } from 'yaml';
import { compileDecoder } from '../../drivers/modbus/decode.js';
import { modbusTcpDeviceSchema } from '../../drivers/modbus/schema.js';

/** `edge-gateway probe` through the built CLI, against the TCP simulator and a socat pty. */
let sim: ModbusTcpSimulator;

beforeAll(async () => {
  sim = await startModbusTcpSimulator({ units: { 1: {}, 3: { size: { holding: 5 } } }, unknownUnit: 'silence', clock: 'manual' });
  sim.unit(1).setRegisters('holding', 10, [0x0000, 0xac41]); // 21.5 as float32 DCBA (0x41ac0000 byte-reversed)
  sim.unit(1).setRegisters('holding', 20, [0xfaad, 0x6d5c, 0x4a45, 0x4093]); // 1234.5678 as float64 (0x40934a456d5cfaad), low word first
  // Bytes whose float32 reading in one order is 2.3e18: the kind that used to print as a plausible counter.
  sim.unit(1).setRegisters('holding', 30, [0x5f00, 0x3ff8]);
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
    expect(r.stdout).toMatch(/^address +type +order: ABCD +order: CDAB +order: BADC +order: DCBA$/m);
    // 21.5 as float32 shows up only in the byte/word order it was written in; the others are marked.
    const float = r.stdout.split('\n').find((l) => /^10 +float32 /.test(l));
    const cells = float!.trim().split(/ {2,}/);
    expect(cells).toEqual(['10', 'float32', expect.stringMatching(/ \?$/), expect.stringMatching(/ \?$/), expect.stringMatching(/ \?$/), '21.5']);
    expect(r.stdout).toContain('  - { name: my_point, table: holding, address: 10, type: float32, order: DCBA }   # 21.5\n');
    expect(r.stdout).toMatch(/^ {2}order: DCBA {2}= {2}byteOrder: little {2}wordOrder: little$/m);
    expect(r.stdout).toContain('float64 (64-bit) spans 4 registers: probe with --count 4 to see it decoded (this probe read 2)\n');
    expect(r.stdout).toMatch(/^unit 3 answered with an exception: .*ILLEGAL DATA ADDRESS.* \(MODBUS_EXCEPTION_2\)$/m);
    expect(r.stdout).toMatch(/^2 unit\(s\) answered: 1, 3; 2 silent$/m);
  }, 30_000);

  it('prints floats as floats and marks implausible decodings instead of showing a plausible-looking counter', async () => {
    const r = await runCli(['probe', 'modbus', '--host', sim.host, '--tcp-port', String(sim.port), '--unit', '1', '--register', '30', '--count', '2', '--timeout', '150']);
    expect(r.code).toBe(0);
    const float = r.stdout.split('\n').find((l) => /^30 +float32 /.test(l))!.trim().split(/ {2,}/);
    expect(float[2]).toBe('9.241378e+18 ?');
    expect(float[3]).toBe('1.940399');
    expect(float[4]).toBe('8.813426e-39 ?'); // denormal
    expect(r.stdout).not.toMatch(/\b\d{16,}\b/);
    expect(r.stdout).toMatch(/^\? = unlikely to be a reading \(NaN, Inf, denormal/m);
  }, 30_000);

  it('a line pasted from the probe output reads the value the device holds (float64, --count 4)', async () => {
    const r = await runCli(['probe', 'modbus', '--host', sim.host, '--tcp-port', String(sim.port), '--unit', '1', '--register', '20', '--count', '4', '--timeout', '150']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('--count 4 to see it');
    const pasted = r.stdout.split('\n').find((l) => /type: float64/.test(l) && !l.includes('<'));
    expect(pasted).toBe('  - { name: my_point, table: holding, address: 20, type: float64, order: CDAB }   # 1234.5678');
    // The technician's device file, with that line pasted under registers:, through the real loader's schema and driver decoder.
    const device = parseYaml(`type: modbus-tcp\nid: meter\nhost: 127.0.0.1\nregisters:\n${pasted}\n`) as Record<string, unknown>;
    const entry = modbusTcpDeviceSchema.parse(device).registers[0]!;
    const words = /holding 20\.\.23 = (.+)\n/.exec(r.stdout)![1]!.split(' ').map((h) => Number(h));
    expect(compileDecoder(entry, 0)(words)).toEqual({ value: 1234.5678, quality: 'good' });
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

  // A sensor ending its lines with CR alone: split by the default (any, as in a device file),
  // by --terminator CR, and by the old option name scripts may still use.
  for (const args of [[], ['--terminator', 'CR'], ['--delimiter', 'CR']]) {
    it(`splits CR-terminated lines with ${args.length ? args.join(' ') : 'the default terminator (any)'}`, async () => {
      const pair = await createPtyPair();
      const writer = new PtyWriter(pair.b);
      try {
        const probe = startCli(['probe', 'serial', '--port', pair.a, '--baud', '9600', '--lines', '2', ...args]);
        let n = 0;
        const deadline = Date.now() + 10_000;
        while (probe.child.exitCode === null && Date.now() < deadline) {
          await writer.write(`P=${n++ % 10}\r`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const r = await probe.done;
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const lines = r.stdout.trim().split('\n');
        expect(lines).toHaveLength(2);
        for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}P=\d$/);
      } finally {
        await writer.close();
        await pair.close();
      }
    }, 30_000);
  }

  it('a missing port is a plain one-line error', async () => {
    const r = await runCli(['probe', 'serial', '--port', '/dev/serial/by-id/usb-nothing', '--baud', '9600']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('edge-gateway probe serial: serial port /dev/serial/by-id/usb-nothing not found (is the adapter plugged in?)\n');
  }, 15_000);
});
