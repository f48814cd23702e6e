import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedUpTo, pendingReadings } from '../../gateway/outbox/inspect.js';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../subscriber/subscriber.js';

/**
 * The .deb packages of `npm run package`, for real (`npm run test:package`, run by .ci/run after
 * `npm run package`): the amd64 package is installed onto THIS host with apt (users, /opt, /etc),
 * runs against mosquitto and the Modbus simulator, is upgraded under a backlog, removed and purged;
 * the arm64 package's tree runs under qemu-aarch64-static. Missing packages fail the run: this
 * file never skips.
 */
const ROOT = join(import.meta.dirname, '../..');
const DEB_DIR = process.env.EDGE_GATEWAY_DEB_DIR ?? join(ROOT, 'build/deb');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** An earlier release line than this package (postinst treats upgrades from before 0.2.0 apart). */
const OLD_VERSION = '0.1.0+pkgtest0';
const DEB = { amd64: join(DEB_DIR, `edge-gateway_${VERSION}_amd64.deb`), arm64: join(DEB_DIR, `edge-gateway_${VERSION}_arm64.deb`) };
// What the unit passes (systemd/edge-gateway.service): the packaged daemon runs as deployed.
const NODE_OPTIONS = '--max-old-space-size=192 --max-semi-space-size=1';
const QEMU = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];

function sh(file: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(file, args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...env } });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}
const installedVersion = (): string | null => {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', 'edge-gateway'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.startsWith('install ok installed') ? r.stdout.split(' ').at(-1)! : null;
};
const hasUser = (name: string): boolean => spawnSync('getent', ['passwd', name]).status === 0;
const hasGroup = (name: string): boolean => spawnSync('getent', ['group', name]).status === 0;

/** Sixteen 4-register Modbus devices polled every 50 ms: a steady stream with seq numbers. */
function modbusDevices(sim: ModbusTcpSimulator): Record<string, Record<string, unknown>> {
  const devices: Record<string, Record<string, unknown>> = {};
  for (let u = 1; u <= 4; u++) {
    devices[`dev-${u}`] = {
      type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: u, intervalMs: 50,
      registers: Array.from({ length: 4 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })),
    };
  }
  return devices;
}

/** The native addons and the trimmed node-opcua load in a packaged tree, on its own Node. */
function addonCheck(launcher: string[], app: string): Record<string, string> {
  const script = `
    const { createRequire } = require('node:module');
    const r = createRequire(${JSON.stringify(join(app, 'package.json'))});
    const Database = r('better-sqlite3');
    const db = new Database(':memory:');
    const sqlite = db.prepare('select sqlite_version() v').get().v;
    const serial = r('@serialport/bindings-cpp');
    const { Epoll } = r('epoll');
    import(r.resolve('node-opcua')).then((opcua) => {
      console.log(JSON.stringify({ arch: process.arch, node: process.version, sqlite,
        serial: typeof serial.autoDetect, epoll: typeof Epoll, opcua: typeof opcua.OPCUAClient.create }));
    });`;
  const out = sh(launcher[0]!, [...launcher.slice(1), '-e', script]);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, string>;
}

let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
const scratch = mkdtempSync(join(tmpdir(), 'edge-gw-pkgtest-'));

beforeAll(async () => {
  for (const deb of Object.values(DEB)) {
    if (!existsSync(deb)) throw new Error(`${deb} is missing: run 'npm run package' first`);
  }
  broker = await startBroker({ persistence: true });
  sim = await startModbusTcpSimulator({ units: [1, 2, 3, 4], stepMs: 20 });
});

afterAll(async () => {
  await sim?.stop();
  await broker?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

describe('package contents', () => {
  it.each(['amd64', 'arm64'] as const)('%s ships the daemon: not tests, the driver template, test-only modules or the checkout\'s Node package', (arch) => {
    const list = sh('dpkg-deb', ['-c', DEB[arch]]);
    expect(list).toContain('./opt/edge-gateway/dist/gateway/cli.js');
    expect(list).toContain('./opt/edge-gateway/node/bin/node');
    expect(list).not.toMatch(/\/drivers\/_template\//);
    expect(list).not.toMatch(/\/gateway\/outbox\/inspect\./);
    expect(list).not.toMatch(/\/opt\/edge-gateway\/dist\/.*\.test\.js/);
    expect(list).not.toMatch(/node_modules\/(node-linux-|@edge-gateway\/)/);
    expect(list).not.toMatch(/node_modules\/\.bin\/node( ->|$)/m);
  });
});

describe('amd64 .deb installed on this host', () => {
  let oldDeb: string;
  let sub: Subscriber | undefined;
  let gw: GatewayProcess | undefined;

  beforeAll(() => {
    if (installedVersion() !== null || existsSync('/opt/edge-gateway')) {
      throw new Error('edge-gateway is already installed here (dpkg or /opt/edge-gateway): this test installs and purges for real, so it refuses');
    }
    // "An install of 0.1.x, upgraded to this package": the same build, repacked as OLD_VERSION,
    // installed first. 0.1.x matters: postinst tells an upgrade from before 0.2.0 that the wire
    // defaults changed.
    const tree = join(scratch, 'old');
    sh('dpkg-deb', ['-R', DEB.amd64, tree]);
    const control = join(tree, 'DEBIAN/control');
    writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${OLD_VERSION}`));
    oldDeb = join(scratch, `edge-gateway_${OLD_VERSION}_amd64.deb`);
    // gzip -1: this package only lives for the test; xz would cost minutes of CPU.
    sh('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '-b', tree, oldDeb]);
  });

  afterAll(async () => {
    await gw?.kill();
    await sub?.stop();
    // Leave the host as it was even when an assertion failed half-way.
    if (installedVersion() !== null) spawnSync('dpkg', ['--purge', 'edge-gateway']);
    rmSync('/run/edge-gateway', { recursive: true, force: true });
  });

  it('installs, runs with no gap, upgrades under a backlog without loss, removes and purges', async () => {
    const t0 = Date.now();
    const installLog = sh('apt-get', ['install', '-y', '--no-install-recommends', oldDeb]);
    const installMs = Date.now() - t0;
    console.log(`apt install of ${oldDeb}: ${(installMs / 1000).toFixed(1)} s`);
    expect(installedVersion()).toBe(OLD_VERSION);
    expect(installLog).toContain('systemd is not running here');
    expect(hasUser('edge-gateway')).toBe(true);
    // Technicians' group (control socket only), apart from the group that reads the secrets.
    expect(hasGroup('edge-gateway-ops')).toBe(true);
    // Actuation (write/pulse on actuate.sock), with the service user in it to hand it the socket.
    expect(hasGroup('edge-gateway-actuate')).toBe(true);
    expect(sh('id', ['-nG', 'edge-gateway']).split(/\s+/)).toContain('edge-gateway-actuate');
    expect(installLog).toContain('created group edge-gateway-actuate');
    const shipped = statSync('/etc/edge-gateway/gateway.yaml');
    expect((shipped.mode & 0o777).toString(8)).toBe('640');
    expect(sh('stat', ['-c', '%U:%G', '/etc/edge-gateway/gateway.yaml']).trim()).toBe('root:edge-gateway');
    expect(existsSync('/etc/systemd/system/multi-user.target.wants/edge-gateway.service')).toBe(true);
    expect(sh('/usr/bin/edge-gateway', ['check-config', '/etc/edge-gateway'])).toMatch(/ok|valid/i);
    expect(addonCheck(['/opt/edge-gateway/node/bin/node'], '/opt/edge-gateway')).toMatchObject({ arch: 'x64', serial: 'function', epoll: 'function', opcua: 'function' });

    // The technician's config: the example devices deleted, the site's own written in their place.
    for (const f of readdirSync('/etc/edge-gateway/devices')) rmSync(join('/etc/edge-gateway/devices', f));
    const config: ConfigDir = writeConfigDir({
      dir: '/etc/edge-gateway', brokerUrls: [broker.url], devices: modbusDevices(sim), gatewayId: 'pkg-amd64',
      gateway: { outbox: { path: '/var/lib/edge-gateway/outbox.db' }, control: { socket: '/run/edge-gateway/control.sock' } },
    });
    const ownConfig = readFileSync('/etc/edge-gateway/gateway.yaml', 'utf8');
    // What systemd's RuntimeDirectory= would create; StateDirectory= the package made already.
    mkdirSync('/run/edge-gateway', { recursive: true, mode: 0o750 });
    sh('chown', ['edge-gateway:edge-gateway', '/run/edge-gateway']);
    const asService = ['setpriv', '--reuid=edge-gateway', '--regid=edge-gateway', '--init-groups', '--', '/usr/bin/edge-gateway'];
    const env = { NODE_OPTIONS, NODE_ENV: 'production' };

    sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'pkg-central' });
    gw = GatewayProcess.start('/etc/edge-gateway', { command: asService, env });
    await gw.ready(30_000);
    await sub.waitFor((s) => s.tracker.receivedCount > 500, 30_000);

    // Broker down: a backlog builds in the outbox while the upgrade is installed.
    await broker.stop();
    await new Promise((r) => setTimeout(r, 3000));
    expect(pendingReadings(config.outboxPath)).toBeGreaterThan(0);
    const upgradeLog = sh('apt-get', ['install', '-y', '--no-install-recommends', DEB.amd64]);
    expect(installedVersion()).toBe(VERSION);
    // The technician's gateway.yaml chooses no payload: the upgrade says the defaults changed.
    expect(upgradeLog).toContain('notice: from 0.2.0 telemetry is sent as payload v2 compressed with zstd by default');
    // No systemd here: prerm stopped the old daemon it found through the outbox lock (no old code
    // left running), and postinst says how to run the new one by hand.
    expect(upgradeLog).toContain(`stopping the gateway daemon running outside systemd (pid ${gw.pid})`);
    expect(await gw.waitExit()).toEqual({ code: 0, signal: null });
    expect(upgradeLog).toContain('runuser -u edge-gateway -- /usr/bin/edge-gateway run --config /etc/edge-gateway');
    // The conffiles the technician edited or deleted stay as they were.
    expect(readFileSync('/etc/edge-gateway/gateway.yaml', 'utf8')).toBe(ownConfig);
    expect(readdirSync('/etc/edge-gateway/devices').sort()).toEqual(['dev-1.yaml', 'dev-2.yaml', 'dev-3.yaml', 'dev-4.yaml']);
    // Without systemd as PID 1 postinst cannot restart the service: do what it says.
    expect(pendingReadings(config.outboxPath)).toBeGreaterThan(0);
    gw = GatewayProcess.start('/etc/edge-gateway', { command: asService, env });
    await gw.ready(30_000);
    await broker.start();
    const restartedAt = sub.tracker.receivedCount;
    await sub.waitFor((s) => s.tracker.receivedCount > restartedAt + 500, 30_000);
    expect((await gw.stop()).code).toBe(0);
    gw = undefined;
    const last = committedUpTo(config.outboxPath);
    await sub.waitFor((s) => s.tracker.has(last) && s.tracker.gaps().length === 0, 30_000);
    expect(sub.tracker.checkComplete(1, last).missing).toEqual([]);
    expect(pendingReadings(config.outboxPath)).toBe(0);
    expect(sub.counters.malformed).toBe(0);
    await sub.stop();
    sub = undefined;

    // remove, with a daemon running by hand: it is stopped (nothing left running deleted files,
    // so purge can delete the user); program gone, readings and config kept.
    gw = GatewayProcess.start('/etc/edge-gateway', { command: asService, env });
    await gw.ready(30_000);
    sh('apt-get', ['remove', '-y', 'edge-gateway']);
    expect(await gw.waitExit()).toEqual({ code: 0, signal: null });
    gw = undefined;
    expect(existsSync('/opt/edge-gateway')).toBe(false);
    expect(existsSync('/usr/bin/edge-gateway')).toBe(false);
    expect(existsSync('/var/lib/edge-gateway/outbox.db')).toBe(true);
    expect(readFileSync('/etc/edge-gateway/gateway.yaml', 'utf8')).toBe(ownConfig);
    expect(hasUser('edge-gateway')).toBe(true);

    // purge: nothing left.
    sh('dpkg', ['--purge', 'edge-gateway']);
    expect(installedVersion()).toBeNull();
    expect(existsSync('/var/lib/edge-gateway')).toBe(false);
    expect(existsSync('/etc/edge-gateway')).toBe(false);
    expect(hasUser('edge-gateway')).toBe(false);
    expect(hasGroup('edge-gateway')).toBe(false);
    expect(hasGroup('edge-gateway-ops')).toBe(false);
    expect(hasGroup('edge-gateway-actuate')).toBe(false);
    expect(existsSync('/etc/systemd/system/multi-user.target.wants/edge-gateway.service')).toBe(false);
  }, 300_000);
});

describe('arm64 .deb tree under qemu-aarch64-static', () => {
  let sub: Subscriber | undefined;
  let gw: GatewayProcess | undefined;

  afterAll(async () => {
    await gw?.kill();
    await sub?.stop();
  });

  it('loads its addons, delivers with no gap and loses nothing through a SIGKILL', async () => {
    const tree = join(scratch, 'arm64');
    sh('dpkg-deb', ['-x', DEB.arm64, tree]);
    const app = join(tree, 'opt/edge-gateway');
    const node = [...QEMU, join(app, 'node/bin/node')];
    expect(execFileSync('file', ['-bL', join(app, 'node/bin/node')], { encoding: 'utf8' })).toContain('ARM aarch64');
    const addons = addonCheck(node, app);
    console.log(`arm64 addon check under emulation: ${JSON.stringify(addons)}`);
    expect(addons).toMatchObject({ arch: 'arm64', serial: 'function', epoll: 'function', opcua: 'function' });

    const config = writeConfigDir({ brokerUrls: [broker.url], devices: modbusDevices(sim), gatewayId: 'pkg-arm64' });
    const command = [...node, ...NODE_OPTIONS.split(' '), join(app, 'dist/gateway/cli.js')];
    sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'pkg-arm64-central' });
    gw = GatewayProcess.start(config.dir, { command, env: { NODE_ENV: 'production' } });
    await gw.ready(120_000);
    await sub.waitFor((s) => s.tracker.receivedCount > 500, 120_000);
    // For docs/benchmarks.md: the emulated daemon's memory (qemu's own translation cache included).
    const status = readFileSync(`/proc/${gw.pid}/status`, 'utf8');
    console.log(`arm64 daemon under qemu-aarch64-static: ${/VmRSS:\s+(\d+ kB)/.exec(status)?.[1]} RSS, ${/VmHWM:\s+(\d+ kB)/.exec(status)?.[1]} peak`);

    const killedAt = sub.tracker.receivedCount;
    await gw.kill('SIGKILL');
    gw = GatewayProcess.start(config.dir, { command, env: { NODE_ENV: 'production' } });
    await gw.ready(120_000);
    await sub.waitFor((s) => s.tracker.receivedCount > killedAt + 500, 120_000);
    expect((await gw.stop(30_000)).code).toBe(0);
    gw = undefined;
    const last = committedUpTo(config.outboxPath);
    await sub.waitFor((s) => s.tracker.has(last) && s.tracker.gaps().length === 0, 60_000);
    console.log(`arm64 under emulation: ${last} readings committed, ${sub.tracker.receivedCount} received, ${sub.tracker.duplicates} duplicates`);
    expect(sub.tracker.checkComplete(1, last).missing).toEqual([]);
    expect(pendingReadings(config.outboxPath)).toBe(0);
    rmSync(config.dir, { recursive: true, force: true });
  }, 600_000);
});
