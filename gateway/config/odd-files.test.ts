import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deviceFileOf } from '../../bench/config-reload.js';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { CLI, GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { request } from '../control/client.js';
import type { ReloadResult } from '../daemon.js';
import type { HealthReport } from '../health.js';
import { MAX_CONFIG_FILE_BYTES, MAX_CONFIG_TOTAL_BYTES } from './load.js';

/**
 * Config files that are not files: a FIFO used to block the whole daemon on reload (status timed
 * out, devices and forwarding stalled), a symlink to /dev/zero passed the size check (stat size 0)
 * and check-config ran out of memory. And a large config parsed on the daemon's event loop held
 * its group commits for as long as the parse took.
 */

const EXAMPLE = join(import.meta.dirname, '../../config/examples/intersection');

function checkConfig(dir: string): { status: number | null; out: string; signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, [CLI, 'check-config', dir], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, signal: r.signal };
}

describe('check-config on files that are not regular files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-odd-'));
    cpSync(EXAMPLE, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    execFileSync('mkfifo', [join(dir, 'devices', 'pipe.yaml')]);
    const r = checkConfig(dir);
    expect(r.signal, 'check-config hung on the FIFO').toBeNull();
    expect(r.status).toBe(1);
    expect(r.out).toContain('devices/pipe.yaml: not a regular file (a FIFO): only plain files are read as config');
  });

  it('refuses a FIFO as a camera or OPC-UA passwordFile at once instead of waiting for a writer', () => {
    execFileSync('mkfifo', [join(dir, 'cam.pw'), join(dir, 'plc.pw')]);
    writeFileSync(join(dir, 'devices', 'cam.yaml'), 'type: camera\nhost: 192.0.2.1\nusername: u\npasswordFile: cam.pw\nprobes: { tcp: { port: 554 } }\n');
    writeFileSync(join(dir, 'devices', 'plc.yaml'), 'type: opcua\nendpointUrl: opc.tcp://192.0.2.9:4840\nauth: { type: username, username: gw, passwordFile: plc.pw }\nitems: [{ nodeId: ns=2;s=Counter, point: counter }]\n');
    const r = checkConfig(dir);
    expect(r.signal, 'check-config hung on the FIFO').toBeNull();
    expect(r.status).toBe(1);
    expect(r.out).toContain(`devices/cam.yaml:4: passwordFile: secret file ${join(dir, 'cam.pw')}: not a regular file (a FIFO)`);
    expect(r.out).toContain(`devices/plc.yaml:3: auth.passwordFile: secret file ${join(dir, 'plc.pw')}: not a regular file (a FIFO)`);
  });

  it('refuses a symlink to /dev/zero (stat size 0) without reading it', () => {
    symlinkSync('/dev/zero', join(dir, 'devices', 'zero.yaml'));
    const r = checkConfig(dir);
    expect(r.signal, 'check-config was killed (out of memory or hung)').toBeNull();
    expect(r.status).toBe(1);
    expect(r.out).toContain('devices/zero.yaml: not a regular file (a character device)');
  });

  it('refuses a gateway.yaml that is a symlink to a FIFO', () => {
    rmSync(join(dir, 'gateway.yaml'));
    execFileSync('mkfifo', [join(dir, 'gateway.fifo')]);
    symlinkSync(join(dir, 'gateway.fifo'), join(dir, 'gateway.yaml'));
    const r = checkConfig(dir);
    expect(r.signal).toBeNull();
    expect(r.out).toContain('gateway.yaml: not a regular file (a FIFO)');
  });
});

describe('a running daemon reloading odd and large configs', () => {
  let broker: BrokerFixture;
  let sim: ModbusTcpSimulator;
  beforeAll(async () => {
    broker = await startBroker();
    sim = await startModbusTcpSimulator({ units: [1], stepMs: 10 });
  }, 30_000);
  afterAll(async () => {
    await sim?.stop();
    await broker?.stop();
  });

  const pump = () => ({ type: 'modbus-tcp', host: '127.0.0.1', port: sim.port, unitId: 1, intervalMs: 10, registers: [{ name: 'counter', address: 0, type: 'uint16' }] });

  it('rejects a FIFO device file on reload and keeps answering status', async () => {
    const config = writeConfigDir({ brokerUrls: [broker.url], devices: { pump: pump() } });
    const gw = GatewayProcess.start(config.dir);
    try {
      await gw.ready();
      execFileSync('mkfifo', [join(config.dir, 'devices', 'pipe.yaml')]);
      const result = await request<ReloadResult>(`${config.dir}/control.sock`, { cmd: 'reload' }, 10_000);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).toContain('not a regular file (a FIFO)');
      const status = await request<HealthReport>(`${config.dir}/control.sock`, { cmd: 'status' });
      expect(status.gateway).toBe(config.gatewayId);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('keeps committing while it reloads the largest config it accepts', async () => {
    const config = writeConfigDir({ brokerUrls: [broker.url], devices: { pump: pump() } });
    const gw = GatewayProcess.start(config.dir);
    const socket = `${config.dir}/control.sock`;
    try {
      await gw.ready();
      // As many device files at the per-file cap as the total allows, each a problem on every line.
      const body = deviceFileOf('unknown-keys', MAX_CONFIG_FILE_BYTES);
      const files = Math.floor((MAX_CONFIG_TOTAL_BYTES - 4096) / body.length);
      for (let i = 0; i < files; i++) writeFileSync(join(config.dir, 'devices', `big-${String(i).padStart(2, '0')}.yaml`), body);
      const before = await request<HealthReport>(socket, { cmd: 'status' });

      let reloadDone = false;
      const reload = request<ReloadResult>(socket, { cmd: 'reload' }, 60_000).finally(() => (reloadDone = true));
      const during: { at: number; commits: number }[] = [];
      while (!reloadDone) {
        const s = await request<HealthReport>(socket, { cmd: 'status' }, 60_000);
        if (!reloadDone) during.push({ at: performance.now(), commits: s.commit.commits });
        await new Promise((r) => setTimeout(r, 20));
      }
      const result = await reload;
      expect(result.ok).toBe(false);
      let longest = 0;
      for (let i = 1; i < during.length; i++) longest = Math.max(longest, during[i]!.at - during[i - 1]!.at);
      // A figure for the log, not an assertion: timing belongs in bench/config-reload.ts.
      console.log(`reload of ${files} files (${(files * body.length / 2 ** 20).toFixed(1)} MiB): ${during.length} status answers during it, longest gap between them ${longest.toFixed(0)} ms`);
      // Status kept answering while the reload ran, and the group commit kept committing
      // meanwhile (several distinct counts: not one burst before and one after a stall).
      expect(during.length).toBeGreaterThanOrEqual(5);
      expect(during.at(-1)!.commits).toBeGreaterThan(before.commit.commits);
      expect(new Set(during.map((d) => d.commits)).size).toBeGreaterThanOrEqual(3);
    } finally {
      await gw.stop();
    }
  }, 120_000);
});
