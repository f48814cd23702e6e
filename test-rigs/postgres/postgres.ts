import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort, waitForListening } from '../broker/port.js';

/**
 * A throw-away PostgreSQL from Debian's packages (postgresql-15), one per test file, the way
 * test-rigs/broker starts mosquitto: initdb into a temp dir, the server on a free loopback port
 * with its unix socket in that dir, trust authentication (loopback only), deleted on dispose.
 *
 * initdb and postgres refuse to run as root. As root (CI containers) the data dir is handed to
 * the `postgres` system user the package creates and both run under `runuser -u postgres`; as
 * any other user they run as that user. The server's pid comes from postmaster.pid, so `stop`
 * and the bench's CPU figures address the postmaster itself, not the runuser wrapper.
 */
export const POSTGRES_BIN_DIR = process.env.EDGE_GATEWAY_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const SYSTEM_USER = 'postgres';

export class PostgresRigError extends Error {
  constructor(
    readonly code: 'PG_NOT_INSTALLED' | 'PG_INITDB_FAILED' | 'PG_START_FAILED' | 'PG_NO_SYSTEM_USER',
    message: string,
  ) {
    super(message);
  }
}

export interface PostgresFixture {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, no password). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's pid (its backends are its children). */
  readonly pid: number;
  /** A fresh database on this server; returns its URL. */
  createDatabase(name: string): string;
  /** Fast shutdown and delete the temp dir. */
  dispose(): Promise<void>;
}

export interface PostgresOptions {
  /** Extra `-c name=value` server settings (e.g. `{ fsync: 'off' }` for a bench that says so). */
  settings?: Record<string, string>;
}

function asServiceUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = spawnSync('id', ['-u', SYSTEM_USER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', SYSTEM_USER], { encoding: 'utf8' });
  if (id.status !== 0) throw new PostgresRigError('PG_NO_SYSTEM_USER', `running as root needs the "${SYSTEM_USER}" user that the postgresql package creates: ${id.stderr.trim()}`);
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** argv for `bin args...`, wrapped in runuser when we are root. */
function command(user: { uid: number } | null, bin: string, args: string[]): [string, string[]] {
  const full = path.join(POSTGRES_BIN_DIR, bin);
  return user ? ['runuser', ['-u', SYSTEM_USER, '--', full, ...args]] : [full, args];
}

async function waitUntilReady(user: { uid: number } | null, socketDir: string, port: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [bin, args] = command(user, 'pg_isready', ['-q', '-h', socketDir, '-p', String(port)]);
    if (spawnSync(bin, args).status === 0) return;
    if (gone() || Date.now() > deadline) throw new PostgresRigError('PG_START_FAILED', `postgres on port ${port} never became ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresFixture> {
  if (!existsSync(path.join(POSTGRES_BIN_DIR, 'postgres'))) {
    throw new PostgresRigError('PG_NOT_INSTALLED', `no PostgreSQL server in ${POSTGRES_BIN_DIR} (apt-get install postgresql, or npm run setup)`);
  }
  const user = asServiceUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edge-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = path.join(dir, 'data');
  const [initBin, initArgs] = command(user, 'initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const init = spawnSync(initBin, initArgs, { encoding: 'utf8', cwd: dir });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new PostgresRigError('PG_INITDB_FAILED', `initdb exited ${init.status}: ${init.stderr.trim() || init.stdout.trim()}`);
  }
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: '50',
    shared_buffers: '128MB',
    ...opts.settings,
  };
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const cArgs = Object.entries({ ...settings, port: String(port) }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
    const [bin, args] = command(user, 'postgres', ['-D', dataDir, ...cArgs]);
    const child: ChildProcess = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    let exited: number | null = null;
    child.once('exit', (code) => (exited = code ?? -1));
    try {
      await waitForListening({
        host: '127.0.0.1',
        port,
        timeoutMs: 30_000,
        abort: () => (exited === null ? null : new PostgresRigError('PG_START_FAILED', `postgres exited ${exited}: ${stderr.trim().slice(-2000)}`)),
      });
      // Listening is not accepting: until recovery/startup ends, connections get "starting up".
      await waitUntilReady(user, dir, port, () => exited !== null);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 3 && /already in use/.test(stderr)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
    return {
      url: url('postgres'),
      port,
      dataDir,
      pid,
      createDatabase(name: string): string {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`createDatabase: "${name}" is not a plain identifier`);
        const [b, a] = command(user, 'psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-qAt', '-c', `CREATE DATABASE ${name}`]);
        const r = spawnSync(b, a, { encoding: 'utf8', cwd: dir });
        if (r.status !== 0) throw new Error(`CREATE DATABASE ${name}: ${r.stderr.trim()}`);
        return url(name);
      },
      async dispose(): Promise<void> {
        if (exited === null) {
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          // SIGINT to the postmaster: "fast" shutdown (roll back, disconnect, checkpoint).
          try {
            process.kill(pid, 'SIGINT');
          } catch {
            child.kill('SIGINT');
          }
          const timer = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
          }, 10_000);
          await gone;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
