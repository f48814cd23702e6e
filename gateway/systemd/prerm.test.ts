/**
 * The package's prerm where no systemd runs (issue 21, finding 7): it finds the daemon through
 * its outbox lock record and stops it, so `apt remove` leaves no process running deleted files
 * and an upgrade no old code; a stale record naming some other process is left alone. Runs the
 * real script against a real daemon, with the state directory pointed at a temporary one.
 * (The full install/upgrade/remove/purge cycle is test-rigs/package, `npm run test:package`.)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { holderPathFor } from '../outbox/lock.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const prerm = join(repo, 'systemd/deb/debian/prerm');
let config: ConfigDir;
let stateDir: string;
let stubs: string;
const started: GatewayProcess[] = [];

/** Run asynchronously: the daemon is this process's child, and must be reaped while prerm waits. */
async function runPrerm(arg: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('sh', [prerm, arg], {
    // A stand-in deb-systemd-invoke: on a box where systemd runs, the script must not stop a real unit.
    env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, EDGE_GATEWAY_STATE_DIR: stateDir, DPKG_ROOT: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'edge-gw-prerm-'));
  stateDir = join(root, 'state');
  stubs = join(root, 'bin');
  mkdirSync(stubs);
  writeFileSync(join(stubs, 'deb-systemd-invoke'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(stubs, 'deb-systemd-invoke'), 0o755);
  config = writeConfigDir({ brokerUrls: ['mqtt://127.0.0.1:1'], dir: join(root, 'config'), gateway: { outbox: { path: join(stateDir, 'outbox.db') } } });
});

afterAll(async () => {
  await Promise.all(started.map((g) => g.kill()));
  if (config) rmSync(dirname(config.dir), { recursive: true, force: true });
});

describe('prerm without systemd', () => {
  it('stops the daemon that holds the outbox lock on remove, cleanly', async () => {
    const gw = GatewayProcess.start(config.dir);
    started.push(gw);
    await gw.ready(20_000);
    expect(existsSync(holderPathFor(config.outboxPath))).toBe(true);

    const r = await runPrerm('remove');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`stopping the gateway daemon running outside systemd (pid ${gw.pid})`);
    // Stopped by SIGTERM, the clean way (exit 0), and its record went with it.
    expect(await gw.waitExit()).toEqual({ code: 0, signal: null });
    expect(existsSync(holderPathFor(config.outboxPath))).toBe(false);
  }, 60_000);

  it('stops it on upgrade only where systemd does not run (postinst restarts the unit where it does)', async () => {
    const gw = GatewayProcess.start(config.dir);
    started.push(gw);
    await gw.ready(20_000);
    const r = await runPrerm('upgrade');
    expect(r.code).toBe(0);
    if (existsSync('/run/systemd/system')) {
      expect(gw.child.exitCode).toBeNull();
      await gw.stop();
    } else {
      expect(await gw.waitExit()).toEqual({ code: 0, signal: null });
    }
  }, 60_000);

  it('leaves alone a process that a stale record names', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(holderPathFor(config.outboxPath), `${JSON.stringify({ pid: other.pid, startedAt: new Date().toISOString(), hostname: 'x', user: 'x' })}\n`);
      const r = await runPrerm('remove');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
    } finally {
      other.kill();
    }
  });
});
