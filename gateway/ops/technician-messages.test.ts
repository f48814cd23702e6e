import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { freeLoopbackPort } from '../../test-rigs/broker/port.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { CLI, runCli } from '../../test-rigs/harness/run-cli.js';

/**
 * What a technician reads when something is not the config's fault: a config this user may not
 * read, a device id that does not run, a size written one way and shown another.
 */

const EXAMPLE = join(import.meta.dirname, '../../config/examples/intersection');

/**
 * Run the CLI as a user who cannot read root-only files. As root, dropping the capabilities that
 * bypass file permissions is enough (the files are then owned by nobody, mode 600); otherwise
 * mode 000 does it.
 */
function runUnprivileged(args: string[], dir: string): { status: number | null; out: string } {
  const files = [join(dir, 'gateway.yaml'), ...readdirSync(join(dir, 'devices')).map((f) => join(dir, 'devices', f))];
  const root = process.getuid?.() === 0;
  for (const f of files) {
    if (root) {
      chownSync(f, 65534, 65534);
      chmodSync(f, 0o600);
    } else chmodSync(f, 0o000);
  }
  const cmd = root ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, CLI, ...args]] as const : [process.execPath, [CLI, ...args]] as const;
  const r = spawnSync(cmd[0], [...cmd[1]], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('a config this user may not read', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-unreadable-'));
    chmodSync(dir, 0o755);
    cpSync(EXAMPLE, dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check-config says permission denied and how to run it, not that the config has problems', () => {
    const r = runUnprivileged(['check-config', dir], dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/^gateway\.yaml: permission denied: this user \(\S+\) cannot read it$/m);
    expect(r.out).toContain(`not checked: permission denied; this user cannot read the config (it is readable by root and the edge-gateway group only); run it as the service user: sudo -u edge-gateway edge-gateway check-config ${dir}, or as root`);
    expect(r.out).not.toMatch(/problem\(s\) found/);
    expect(r.out).not.toContain('EACCES');
  });

  it('doctor says permission denied and how to run it', () => {
    const r = runUnprivileged(['doctor', '--config', dir, '--no-probe', '--socket', join(dir, 'none.sock')], dir);
    expect(r.out).toMatch(/FAIL\s+configuration readable/);
    expect(r.out).toContain('permission denied: not checked');
    expect(r.out).toContain(`run it as the service user: sudo -u edge-gateway edge-gateway doctor --config ${dir}, or as root`);
    expect(r.out).not.toMatch(/fix the \d+ problem\(s\)/);
  });
});

describe('doctor shows sizes as they were written', () => {
  it('shows retention.maxBytes as the file says it (512MB), with the binary size beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-written-'));
    try {
      cpSync(EXAMPLE, dir, { recursive: true });
      const gw = join(dir, 'gateway.yaml');
      const text = readFileSync(gw, 'utf8');
      expect(text).toMatch(/maxBytes: 512MB/);
      writeFileSync(gw, text.replace(/path: .*outbox\.db.*/, `path: ${join(dir, 'outbox.db')}`));
      const r = await runCli(['doctor', '--config', dir, '--no-probe', '--socket', join(dir, 'none.sock')]);
      expect(r.stdout).toMatch(/of retention\.maxBytes 512MB \(488 MiB\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('tail --device with an id the gateway does not run', () => {
  it('says there is no such device and names the ones that run, instead of printing nothing', async () => {
    const broker: BrokerFixture = await startBroker();
    // A device that runs without answering is enough: tail asks which devices run, not how they are.
    const config = writeConfigDir({
      brokerUrls: [broker.url],
      devices: { pump: { type: 'modbus-tcp', host: '127.0.0.1', port: await freeLoopbackPort(), unitId: 1, intervalMs: 1000, registers: [{ name: 'counter', address: 0, type: 'uint16' }] } },
    });
    const gw = GatewayProcess.start(config.dir);
    try {
      await gw.ready();
      const r = await runCli(['tail', '--socket', `${config.dir}/control.sock`, '--device', 'nosuch'], { timeoutMs: 15_000 });
      expect(r.signal, 'tail kept waiting for a device that does not exist').toBeNull();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('no such device: "nosuch" is not running on this gateway (running: pump;');
    } finally {
      await gw.stop();
      await broker.stop();
    }
  }, 60_000);
});
