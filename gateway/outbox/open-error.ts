import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why an outbox could not be opened, when the file itself is fine: wrong owner or mode (the
 * classic: `sudo edge-gateway run` left a root-owned outbox behind), a read-only filesystem, a
 * missing or unwritable directory. None of these is corruption, so nothing is moved aside; the
 * daemon stops with EX_CONFIG (78) and a message that names the path, its owner and mode, and
 * the command that fixes it.
 */
export class OutboxAccessError extends Error {
  readonly code = 'OUTBOX_ACCESS';
  readonly exitCode = 78;
}

/** SQLite result codes that mean the bytes of the file are damaged: quarantine is right. */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

/** Codes that say "this process may not open or write there", never "the file is damaged". */
const ACCESS_CODES = /^(EACCES|EPERM|EROFS|ENOENT|ENOTDIR|SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_PERM|SQLITE_AUTH)/;

export function isAccessProblem(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && ACCESS_CODES.test(code);
}

/**
 * Check, before SQLite touches anything, that this process can create and write every file of
 * the outbox: the directory (SQLite creates -wal, -shm and the reserve beside the database) and
 * each file that already exists. Returns null when all is well.
 */
export function checkOutboxAccess(path: string): OutboxAccessError | null {
  const dir = dirname(path);
  const candidates: [string, number][] = [[dir, constants.W_OK | constants.X_OK]];
  for (const suffix of ['', '-wal', '-shm', '.reserve']) {
    if (existsSync(path + suffix)) candidates.push([path + suffix, constants.R_OK | constants.W_OK]);
  }
  for (const [p, mode] of candidates) {
    try {
      accessSync(p, mode);
    } catch (err) {
      return describeAccessProblem(path, p, err);
    }
  }
  return null;
}

/** The message for `culprit` (the outbox database or one of its companions) failing with `err`. */
export function describeAccessProblem(outboxPath: string, culprit: string, err: unknown): OutboxAccessError {
  const code = (err as { code?: string })?.code ?? 'ERROR';
  const me = currentUser();
  const dir = dirname(outboxPath);
  let about: string;
  try {
    const st = statSync(culprit);
    about = `${culprit} is owned by ${nameOf('/etc/passwd', st.uid)}:${nameOf('/etc/group', st.gid)}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
  } catch {
    about = `${culprit} does not exist`;
  }
  let fix: string;
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    fix = `something on the way to ${dir} is a file, not a directory: move it away, or set outbox.path`;
  } else if (code === 'EROFS') {
    fix = `the filesystem is read-only: remount it read-write, or set outbox.path to a writable place`;
  } else if (!existsSync(dir)) {
    fix = `create it: install -d -o ${me.name} -m 0750 ${dir} (or set outbox.path)`;
  } else {
    fix = `chown -R ${me.name}: ${dir} (a root-owned outbox is usually left by "sudo edge-gateway run"; run it as the service user instead)`;
  }
  return new OutboxAccessError(
    `outbox ${outboxPath}: cannot open it for writing as ${me.name} (uid ${me.uid}): ${code}: ${about}. Fix: ${fix}. Nothing was moved or deleted; the backlog in it is intact.`,
    { cause: err },
  );
}

function currentUser(): { name: string; uid: number } {
  const uid = process.getuid?.() ?? -1;
  return { name: nameOf('/etc/passwd', uid), uid };
}

/** A numeric id as its name from passwd/group (colon files), or the number when it has none. */
function nameOf(file: string, id: number): string {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && f[2] === String(id)) return f[0]!;
    }
  } catch {
    // No passwd to read (a container): the number says enough.
  }
  return String(id);
}
