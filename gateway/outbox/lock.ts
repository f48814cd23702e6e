import Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { describeAccessProblem, isAccessProblem } from './open-error.js';

/**
 * One daemon per outbox. Two daemons on one outbox hand out the same seqs with different content,
 * so the daemon holds an exclusive lock on `<outbox>.lock` for its whole life, independent of the
 * control socket (which may be unavailable: no /run/edge-gateway outside systemd).
 *
 * The lock is SQLite's own: `<outbox>.lock` is a tiny SQLite database held in EXCLUSIVE locking
 * mode, i.e. a POSIX fcntl write lock the kernel drops when the process dies (SIGKILL, power
 * cut: nothing stale to clean up). No native code beyond better-sqlite3, which the outbox needs
 * anyway; npm's flock bindings (fs-ext) are NAN addons built from source, another thing to
 * cross-compile for arm64. The lock lives in its own file, not on outbox.db: EXCLUSIVE mode on
 * the WAL outbox would shut out every reader (doctor's quick_check, the test inspector, probes).
 *
 * Who holds it is written beside it as `<outbox>.lock.json` (pid, start time, host, user, config
 * dir, version), atomically, after the lock is taken: a refused daemon names the holder, and the
 * package's maintainer scripts find the daemon to stop where there is no systemd.
 *
 * POSIX locks belong to the process and fall when ANY descriptor of the file in this process is
 * closed: nothing in the daemon may open `<outbox>.lock` except through SQLite (which shares one
 * descriptor per file across connections). The holder record is a separate file for that reason.
 */

export interface LockHolder {
  pid: number;
  /** When the holding process started (ISO 8601). */
  startedAt: string;
  hostname: string;
  user: string;
  configDir: string | null;
  version: string | null;
}

/** sysexits' EX_TEMPFAIL: another daemon runs on this outbox; try again once it has stopped. */
export const EXIT_OUTBOX_LOCKED = 75;

export class OutboxLockedError extends Error {
  readonly code = 'OUTBOX_LOCKED';
  readonly exitCode = EXIT_OUTBOX_LOCKED;
  constructor(
    readonly outboxPath: string,
    readonly holder: LockHolder | null,
  ) {
    super(`another edge-gateway daemon is running on the outbox ${outboxPath}: ${describeHolder(holder)}. Two daemons on one outbox would send the same sequence numbers twice, so this one does not start. Stop the other one first (systemctl stop edge-gateway, or kill ${holder ? holder.pid : '<pid>'} for one started by hand).`);
  }
}

export const lockPathFor = (outboxPath: string): string => `${outboxPath}.lock`;
export const holderPathFor = (outboxPath: string): string => `${outboxPath}.lock.json`;

export function describeHolder(holder: LockHolder | null): string {
  if (!holder) return 'held by a process that has not recorded itself (it may be starting right now)';
  const who = `pid ${holder.pid} on ${holder.hostname}, user ${holder.user}, started ${holder.startedAt}`;
  return `held by ${who}${holder.configDir ? `, config ${holder.configDir}` : ''}${holder.version ? `, version ${holder.version}` : ''}`;
}

export class OutboxLock {
  private released = false;
  private constructor(
    private readonly db: Database.Database,
    readonly outboxPath: string,
    readonly holder: LockHolder,
  ) {}

  /**
   * Take the lock or throw OutboxLockedError at once (no waiting: a second daemon must not sit
   * there, and a holder does not let go by itself). Access problems (a root-owned lock file)
   * throw the outbox's OutboxAccessError, with the chown that fixes them.
   */
  static acquire(outboxPath: string, who: { configDir?: string; version?: string } = {}): OutboxLock {
    const path = lockPathFor(outboxPath);
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(outboxPath), { recursive: true, mode: 0o750 });
      createWithMode(path);
      db = new Database(path, { timeout: 0 });
      db.pragma('locking_mode = EXCLUSIVE');
      // No journal file beside it: the database holds nothing worth a rollback.
      db.pragma('journal_mode = MEMORY');
      // In EXCLUSIVE locking mode the lock this takes is kept after COMMIT, until close().
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      try {
        db?.close();
      } catch {
        // Closing a handle that never got the lock cannot fail in a way that matters here.
      }
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new OutboxLockedError(outboxPath, readHolderSettled(outboxPath));
      if (isAccessProblem(err)) throw describeAccessProblem(outboxPath, path, err);
      throw err;
    }
    const holder: LockHolder = {
      pid: process.pid,
      startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
      hostname: hostname(),
      user: userInfo().username,
      configDir: who.configDir ?? null,
      version: who.version ?? null,
    };
    writeHolder(outboxPath, holder);
    return new OutboxLock(db, outboxPath, holder);
  }

  /** Let go: the record first (only while it is ours), then the lock, so no successor's record is deleted. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (readHolder(this.outboxPath)?.pid === process.pid) rmSync(holderPathFor(this.outboxPath), { force: true });
    this.db.close();
  }
}

/** The recorded holder, or null when there is no (readable) record. Says nothing on whether it runs. */
export function readHolder(outboxPath: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(holderPathFor(outboxPath), 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.startedAt !== 'string') return null;
    return { pid: h.pid, startedAt: h.startedAt, hostname: String(h.hostname ?? '?'), user: String(h.user ?? '?'), configDir: h.configDir ?? null, version: h.version ?? null };
  } catch {
    return null;
  }
}

/** Is a process with this pid alive on this host? (EPERM: alive, another user's.) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The holder's record as seen by a refused daemon. The holder writes it just after taking the
 * lock, so a record that names a dead process may be about to be replaced: look again briefly.
 */
function readHolderSettled(outboxPath: string): LockHolder | null {
  const deadline = Date.now() + 1000;
  for (;;) {
    const h = readHolder(outboxPath);
    const stale = h !== null && h.hostname === hostname() && !processAlive(h.pid);
    if (h && !stale) return h;
    if (Date.now() > deadline) return null;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/** tmp + fsync + rename: a reader (a maintainer script) never sees half a record. */
function writeHolder(outboxPath: string, holder: LockHolder): void {
  const path = holderPathFor(outboxPath);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', 0o640);
    try {
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch {
    // The lock is what keeps a second daemon out; without the record a refusal just names no pid.
    rmSync(tmp, { force: true });
  }
}

function createWithMode(path: string): void {
  try {
    // Opened and closed before SQLite holds any lock on it: closing cannot drop a lock here.
    closeSync(openSync(path, 'wx', 0o640));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
