/**
 * Runs systemd/install.sh and uninstall.sh for real, into a temporary root (--root), against a
 * small but complete checkout: package.json + lockfile, a prod and a dev dependency, a built
 * cli.js, example config and the real unit. The host's /etc and /opt must stay untouched.
 * (Lives under gateway/systemd/ because vitest only collects tests from the source folders.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { itAsRoot } from '../../test-rigs/system/root.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const installSh = join(repo, 'systemd/install.sh');
const uninstallSh = join(repo, 'systemd/uninstall.sh');
const asRoot = process.getuid?.() === 0;
const hasSystemctl = existsSync('/usr/bin/systemctl') || existsSync('/bin/systemctl');
let stagingDir = tmpdir();

async function sh(script: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    // The script stages in TMPDIR: keep that inside the test's own directory.
    const env = { ...process.env, TMPDIR: stagingDir };
    const { stdout, stderr } = await run('bash', [script, ...args], { timeout: 60_000, env });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: (e.stdout ?? '') + (e.stderr ?? String(err)) };
  }
}

async function json(path: string, value: unknown) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

async function makeCheckout(dir: string, version: string) {
  await json(join(dir, 'package.json'), {
    name: 'edge-gateway',
    version,
    dependencies: { 'dep-a': '1.0.0' },
    devDependencies: { 'dev-b': '1.0.0' },
  });
  await json(join(dir, 'package-lock.json'), {
    name: 'edge-gateway',
    version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'edge-gateway', version, dependencies: { 'dep-a': '1.0.0' }, devDependencies: { 'dev-b': '1.0.0' } },
      'node_modules/dep-a': { version: '1.0.0' },
      'node_modules/dev-b': { version: '1.0.0', dev: true },
    },
  });
  await json(join(dir, 'node_modules/dep-a/package.json'), { name: 'dep-a', version: '1.0.0' });
  await json(join(dir, 'node_modules/dev-b/package.json'), { name: 'dev-b', version: '1.0.0' });
  await mkdir(join(dir, 'dist/gateway'), { recursive: true });
  await writeFile(
    join(dir, 'dist/gateway/cli.js'),
    `console.log(JSON.stringify({ version: ${JSON.stringify(version)}, argv: process.argv.slice(2) }));\n`,
  );
  await mkdir(join(dir, 'config/examples/crossing/devices'), { recursive: true });
  await writeFile(join(dir, 'config/examples/crossing/gateway.yaml'), 'mqtt:\n  url: mqtt://127.0.0.1:1883\n');
  await writeFile(join(dir, 'config/examples/crossing/devices/plc-1.yaml'), 'type: modbus-tcp\n');
  await writeFile(join(dir, 'config/examples/crossing/README.md'), 'not config\n');
  await mkdir(join(dir, 'config/examples/crossing/secrets'), { recursive: true });
  await writeFile(join(dir, 'config/examples/crossing/secrets/mqtt-password'), 'example-pw\n', { mode: 0o644 });
  await mkdir(join(dir, 'systemd'), { recursive: true });
  await copyFile(join(repo, 'systemd/edge-gateway.service'), join(dir, 'systemd/edge-gateway.service'));
}

/** A target tree with the account files a Debian box has (no gpio group, as off a Pi). */
async function makeRoot(dir: string) {
  await mkdir(join(dir, 'etc'), { recursive: true });
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\ndialout:x:20:\ninput:x:101:\n');
  await writeFile(join(dir, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
  await writeFile(join(dir, 'etc/gshadow'), 'root:*::\ndialout:*::\ninput:*::\n');
  await chmod(join(dir, 'etc/shadow'), 0o600);
  await chmod(join(dir, 'etc/gshadow'), 0o600);
}

/** Everything observable about a tree: type, mode, owner, mtime, content hash, link target. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    const abs = join(dir, rel);
    const st = await lstat(abs);
    const base = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
    if (st.isSymbolicLink()) out[rel] = `${base} -> ${await readlink(abs)}`;
    else if (st.isDirectory()) {
      out[rel] = `${base} dir`;
      for (const name of (await readdir(abs)).sort()) await walk(join(rel, name));
    } else out[rel] = `${base} ${createHash('sha256').update(await readFile(abs)).digest('hex')}`;
  };
  await walk('.');
  return out;
}

async function hostState() {
  const hash = async (p: string) => (existsSync(p) ? createHash('sha256').update(await readFile(p)).digest('hex') : null);
  return {
    passwd: await hash('/etc/passwd'),
    group: await hash('/etc/group'),
    opt: existsSync('/opt/edge-gateway'),
    unit: existsSync('/etc/systemd/system/edge-gateway.service'),
    etc: existsSync('/etc/edge-gateway'),
  };
}

describe('systemd/install.sh and uninstall.sh into a temporary root', () => {
  let work: string;
  let src: string;
  let root: string;
  let host: Awaited<ReturnType<typeof hostState>>;

  beforeAll(async () => {
    host = await hostState();
    work = await mkdtemp(join(tmpdir(), 'edge-gw-install-'));
    src = join(work, 'checkout');
    root = join(work, 'root');
    stagingDir = join(work, 'tmp');
    await mkdir(stagingDir);
    await makeCheckout(src, '9.9.9');
    await makeRoot(root);
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  let firstRun = '';

  it('installs package, wrapper, unit, config and user on the first run', async () => {
    const r = await sh(installSh, ['--root', root, '--source', src]);
    expect(r.code, r.out).toBe(0);

    const opt = join(root, 'opt/edge-gateway');
    expect(await readlink(join(opt, 'current'))).toBe('9.9.9');
    expect(existsSync(join(opt, '9.9.9/node_modules/dep-a/package.json'))).toBe(true);
    expect(existsSync(join(opt, '9.9.9/node_modules/dev-b'))).toBe(false);
    expect(await readdir(opt)).toEqual(['9.9.9', 'current']); // no staging leftovers

    // The wrapper the unit's ExecStart names runs the installed cli.js with the given arguments.
    const { stdout } = await run(join(opt, 'current/bin/edge-gateway'), ['run', '--config', '/etc/edge-gateway']);
    expect(JSON.parse(stdout)).toEqual({ version: '9.9.9', argv: ['run', '--config', '/etc/edge-gateway'] });

    const unit = await readFile(join(root, 'etc/systemd/system/edge-gateway.service'), 'utf8');
    expect(unit).toBe(await readFile(join(repo, 'systemd/edge-gateway.service'), 'utf8'));
    expect(await readFile(join(root, 'etc/modules-load.d/edge-gateway.conf'), 'utf8')).toMatch(/^usbserial$/m);
    // The sole example set is laid out as the config dir itself; YAML and its secret files are copied.
    expect(await readFile(join(root, 'etc/edge-gateway/devices/plc-1.yaml'), 'utf8')).toBe('type: modbus-tcp\n');
    expect((await readdir(join(root, 'etc/edge-gateway'))).sort()).toEqual(['devices', 'gateway.yaml', 'secrets']);
    expect(await readFile(join(root, 'etc/edge-gateway/secrets/mqtt-password'), 'utf8')).toBe('example-pw\n');
    // Readable by the owner and the service's group only, however loose the example's mode was.
    expect((await lstat(join(root, 'etc/edge-gateway/secrets/mqtt-password'))).mode & 0o777).toBe(0o640);
    expect((await lstat(join(root, 'etc/edge-gateway/secrets'))).mode & 0o777).toBe(0o750);
    expect((await lstat(join(root, 'etc/edge-gateway/gateway.yaml'))).mode & 0o777).toBe(0o640);
    firstRun = r.out;
  });

  // These two depend on the machine; vitest lists them as skipped where they checked nothing.
  it.skipIf(!hasSystemctl)('enables the unit where systemctl exists', async () => {
    expect(firstRun, 'the first install must have run').not.toBe('');
    expect(await readlink(join(root, 'etc/systemd/system/multi-user.target.wants/edge-gateway.service'))).toBe(
      '/etc/systemd/system/edge-gateway.service',
    );
  });

  itAsRoot('as root, creates the service user in the groups that exist, and in edge-gateway-actuate', async () => {
    expect(firstRun, 'the first install must have run').not.toBe('');
    {
      const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
      expect(passwd).toMatch(/^edge-gateway:x:\d+:\d+:[^:]*:\/var\/lib\/edge-gateway:\/usr\/sbin\/nologin$/m);
      const group = await readFile(join(root, 'etc/group'), 'utf8');
      expect(group).toMatch(/^dialout:x:20:edge-gateway$/m);
      expect(group).toMatch(/^input:x:101:edge-gateway$/m);
      expect(group).not.toMatch(/^gpio:/m); // absent groups are skipped, not created
      // Its own actuate group, so it can hand actuate.sock to it; nobody else is put in it.
      expect(group).toMatch(/^edge-gateway-actuate:x:\d+:edge-gateway$/m);
      const gid = Number(/^edge-gateway:x:(\d+):/m.exec(group)![1]);
      expect((await lstat(join(root, 'etc/edge-gateway/gateway.yaml'))).gid).toBe(gid);
    }
  });

  itAsRoot('technicians (edge-gateway-ops) reach the control socket but cannot read secrets or state', async () => {
    const group = await readFile(join(root, 'etc/group'), 'utf8');
    const gidOf = (name: string) => Number(new RegExp(`^${name}:x:(\\d+):([^\\n]*)$`, 'm').exec(group)![1]);
    const svc = /^edge-gateway:x:(\d+):(\d+):/m.exec(await readFile(join(root, 'etc/passwd'), 'utf8'))!;
    const svcUid = Number(svc[1]);
    const svcGid = gidOf('edge-gateway');
    const opsGid = gidOf('edge-gateway-ops');
    expect(opsGid).not.toBe(svcGid);
    expect(group).toMatch(/^edge-gateway-ops:x:\d+:$/m); // the service user is not a technician
    const TECH = 64_000; // a technician: member of edge-gateway-ops only
    const OUTSIDER = 64_001;
    const as = (uid: number, gid: number, cmd: string[]) =>
      run('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, `--groups=${gid}`, ...cmd], { timeout: 20_000 }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
      );
    // The temp dirs are 0700 (mkdtemp); the tree inside is what is being checked.
    await chmod(work, 0o755);
    await chmod(root, 0o755);

    // Config (may hold the broker password) as the installer leaves it: 0640 root:edge-gateway.
    const secret = join(root, 'etc/edge-gateway/gateway.yaml');
    const cat = await as(TECH, opsGid, ['cat', secret]);
    expect(cat.code).not.toBe(0);
    expect(cat.out).toMatch(/Permission denied/);
    expect((await as(svcUid, svcGid, ['cat', secret])).code).toBe(0); // the daemon can

    // State and runtime directories as systemd creates them from the unit, then its "+" pre-steps.
    const unit = await readFile(join(root, 'etc/systemd/system/edge-gateway.service'), 'utf8');
    const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'gm');
    const state = join(root, 'var/lib/edge-gateway');
    await mkdir(state, { recursive: true });
    await chown(state, svcUid, svcGid);
    await chmod(state, parseInt(setting('StateDirectoryMode').exec(unit)![1]!, 8));
    await writeFile(join(state, 'outbox.db'), 'readings', { mode: 0o640 });
    await chown(join(state, 'outbox.db'), svcUid, svcGid);
    expect((await as(TECH, opsGid, ['cat', join(state, 'outbox.db')])).code).not.toBe(0);

    const runtime = join(root, 'run/edge-gateway');
    await mkdir(runtime, { recursive: true });
    await chown(runtime, svcUid, svcGid);
    await chmod(runtime, parseInt(setting('RuntimeDirectoryMode').exec(unit)![1]!, 8));
    for (const [, line] of unit.matchAll(setting('ExecStartPre'))) {
      // Root-privileged steps ("+"), on this tree: its path, and its group by number (the host has no such group).
      const argv = line!.replace(/^\+/, '').replaceAll('/run/edge-gateway', runtime).replaceAll('edge-gateway-ops', String(opsGid)).split(' ');
      await run(argv[0]!, argv.slice(1));
    }

    // The daemon's real control server, run as the service user, then the real CLI as each user.
    const sock = join(runtime, 'control.sock');
    const serverJs = join(repo, 'dist/gateway/control/server.js');
    const script = `const { ControlServer } = await import(${JSON.stringify(serverJs)});
const log = { info() {}, warn() {}, error() {}, debug() {}, child() { return log; } };
await new ControlServer(${JSON.stringify(sock)}, { status: () => ({ starting: true }), reload: async () => ({}) }, log).listen();
process.stdout.write('listening\\n');`;
    const daemon = execFile('setpriv', [`--reuid=${svcUid}`, `--regid=${svcGid}`, `--groups=${svcGid}`, process.execPath, '--input-type=module', '-e', script]);
    try {
      await new Promise<void>((resolve, reject) => {
        daemon.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
        daemon.once('exit', (code) => reject(new Error(`control server exited ${code}`)));
      });
      const cli = join(repo, 'dist/gateway/cli.js');
      const tech = await as(TECH, opsGid, [process.execPath, cli, 'status', '--socket', sock, '--json']);
      expect(tech.out).toContain('"starting": true');
      expect(tech.code).toBe(0);
      const outsider = await as(OUTSIDER, OUTSIDER, [process.execPath, cli, 'status', '--socket', sock]);
      expect(outsider.code).toBe(1);
      expect(outsider.out).toMatch(/permission denied/);
      // A box set up by the old docs (technician in edge-gateway): every install run says so.
      const groupFile = join(root, 'etc/group');
      await writeFile(groupFile, group.replace(/^(edge-gateway:x:\d+:)$/m, '$1alice'));
      const again = await sh(installSh, ['--root', root, '--source', src]);
      await writeFile(groupFile, group);
      expect(again.code, again.out).toBe(0);
      expect(again.out).toContain('warning: group edge-gateway (reads the secrets) has members: alice; technicians belong in edge-gateway-ops');
    } finally {
      daemon.kill();
      // What systemd would remove at stop; the later runs compare the tree before and after.
      await rm(join(root, 'run'), { recursive: true, force: true });
      await rm(state, { recursive: true, force: true });
    }
  });

  it.skipIf(asRoot)('not as root, says it skipped user and group creation', () => {
    expect(firstRun).toContain('not root: skipping user/group creation');
  });

  it('changes nothing on a second run and never touches existing config', async () => {
    const edited = join(root, 'etc/edge-gateway/gateway.yaml');
    await writeFile(edited, 'mqtt:\n  url: mqtts://broker.city.example:8883\n');
    await rm(join(root, 'etc/edge-gateway/devices/plc-1.yaml')); // this cabinet has no PLC
    const before = await snapshot(root);
    const r = await sh(installSh, ['--root', root, '--source', src]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('kept existing /etc/edge-gateway');
    expect(r.out).toContain('nothing to do: edge-gateway 9.9.9 is installed');
    expect(await snapshot(root)).toEqual(before);
    // A deliberately removed example device must not come back.
    expect(existsSync(join(root, 'etc/edge-gateway/devices/plc-1.yaml'))).toBe(false);
    expect(await readFile(edited, 'utf8')).toBe('mqtt:\n  url: mqtts://broker.city.example:8883\n');
  });

  it('installs a new version beside the old one and flips current', async () => {
    const src2 = join(work, 'checkout-2');
    await makeCheckout(src2, '9.10.0');
    const r = await sh(installSh, ['--root', root, '--source', src2]);
    expect(r.code, r.out).toBe(0);
    const opt = join(root, 'opt/edge-gateway');
    expect(await readlink(join(opt, 'current'))).toBe('9.10.0');
    expect((await readdir(opt)).sort()).toEqual(['9.10.0', '9.9.9', 'current']); // old one kept for rollback
    const { stdout } = await run(join(opt, 'current/bin/edge-gateway'), ['check-config', '/etc/edge-gateway']);
    expect(JSON.parse(stdout)).toEqual({ version: '9.10.0', argv: ['check-config', '/etc/edge-gateway'] });
    expect(await readFile(join(root, 'etc/edge-gateway/gateway.yaml'), 'utf8')).toContain('broker.city.example');
  });

  it('replaces a rebuilt tree of the same version in place, leaving no debris', async () => {
    const src2 = join(work, 'checkout-2');
    await writeFile(join(src2, 'dist/gateway/cli.js'), 'console.log(JSON.stringify({ rebuilt: true }));\n');
    const r = await sh(installSh, ['--root', root, '--source', src2]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('replacing /opt/edge-gateway/9.10.0 (same version, different contents)');
    const opt = join(root, 'opt/edge-gateway');
    const { stdout } = await run(join(opt, 'current/bin/edge-gateway'), []);
    expect(JSON.parse(stdout)).toEqual({ rebuilt: true });
    expect((await readdir(opt)).sort()).toEqual(['9.10.0', '9.9.9', 'current']);
  });

  it('with several example sets, seeds only the one asked for', async () => {
    const src3 = join(work, 'checkout-3');
    await makeCheckout(src3, '9.10.0');
    await mkdir(join(src3, 'config/examples/depot'), { recursive: true });
    await writeFile(join(src3, 'config/examples/depot/gateway.yaml'), 'depot: true\n');
    const fresh = join(work, 'root-3');
    await makeRoot(fresh);
    let r = await sh(installSh, ['--root', fresh, '--source', src3, '--example', 'nope']);
    expect(r.code).toBe(1);
    expect(r.out).toContain("no example set 'nope'");
    expect(r.out).toContain('have: crossing depot');
    r = await sh(installSh, ['--root', fresh, '--source', src3]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('left /etc/edge-gateway empty: 2 example sets (crossing depot)');
    expect(await readdir(join(fresh, 'etc/edge-gateway'))).toEqual([]);
    r = await sh(installSh, ['--root', fresh, '--source', src3, '--example', 'depot']);
    expect(r.code, r.out).toBe(0);
    expect(await readFile(join(fresh, 'etc/edge-gateway/gateway.yaml'), 'utf8')).toBe('depot: true\n');
  });

  it('refuses a checkout that was not built, saying what to do', async () => {
    const bare = join(work, 'unbuilt');
    await makeCheckout(bare, '1.0.0');
    await rm(join(bare, 'dist'), { recursive: true });
    const r = await sh(installSh, ['--root', root, '--source', bare]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/dist\/gateway\/cli\.js' is missing: run 'npm ci && npm run build'/);
  });

  it('uninstall keeps data and config; --purge removes them and the user', async () => {
    await mkdir(join(root, 'var/lib/edge-gateway'), { recursive: true });
    await writeFile(join(root, 'var/lib/edge-gateway/outbox.db'), 'pending readings');

    let r = await sh(uninstallSh, ['--root', root]);
    expect(r.code, r.out).toBe(0);
    expect(existsSync(join(root, 'opt/edge-gateway'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/edge-gateway.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/edge-gateway.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/modules-load.d/edge-gateway.conf'))).toBe(false);
    expect(await readFile(join(root, 'var/lib/edge-gateway/outbox.db'), 'utf8')).toBe('pending readings');
    expect(existsSync(join(root, 'etc/edge-gateway/gateway.yaml'))).toBe(true);

    r = await sh(uninstallSh, ['--root', root]); // idempotent too
    expect(r.code, r.out).toBe(0);

    r = await sh(uninstallSh, ['--root', root, '--purge']);
    expect(r.code, r.out).toBe(0);
    expect(existsSync(join(root, 'var/lib/edge-gateway'))).toBe(false);
    expect(existsSync(join(root, 'etc/edge-gateway'))).toBe(false);
    if (asRoot) {
      expect(await readFile(join(root, 'etc/passwd'), 'utf8')).not.toMatch(/^edge-gateway:/m);
      expect(await readFile(join(root, 'etc/group'), 'utf8')).not.toMatch(/edge-gateway/);
    }
  });

  it('left the host system untouched and cleaned up its staging area', async () => {
    expect(await hostState()).toEqual(host);
    expect(await readdir(stagingDir)).toEqual([]);
  });
});
