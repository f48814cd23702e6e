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
import { chmod, copyFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

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
    // The sole example set is laid out as the config dir itself; only YAML is copied.
    expect(await readFile(join(root, 'etc/edge-gateway/devices/plc-1.yaml'), 'utf8')).toBe('type: modbus-tcp\n');
    expect((await readdir(join(root, 'etc/edge-gateway'))).sort()).toEqual(['devices', 'gateway.yaml']);
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

  it.skipIf(!asRoot)('as root, creates the service user in the groups that exist', async () => {
    expect(firstRun, 'the first install must have run').not.toBe('');
    {
      const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
      expect(passwd).toMatch(/^edge-gateway:x:\d+:\d+:[^:]*:\/var\/lib\/edge-gateway:\/usr\/sbin\/nologin$/m);
      const group = await readFile(join(root, 'etc/group'), 'utf8');
      expect(group).toMatch(/^dialout:x:20:edge-gateway$/m);
      expect(group).toMatch(/^input:x:101:edge-gateway$/m);
      expect(group).not.toMatch(/^gpio:/m); // absent groups are skipped, not created
      const gid = Number(/^edge-gateway:x:(\d+):/m.exec(group)![1]);
      expect((await lstat(join(root, 'etc/edge-gateway/gateway.yaml'))).gid).toBe(gid);
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
