import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import type { GatewayConfig } from '../../config/load.js';
import { formatBytes } from '../terminal.js';
import { errnoOf, type CheckResult } from './check.js';
import { OUTBOX_SCHEMA_VERSION, readSchemaVersion } from '../../outbox/schema-version.js';

/**
 * The outbox database opens and passes SQLite's quick_check. Opened read-only: in WAL mode a
 * reader takes no write locks, so a running daemon keeps committing and forwarding meanwhile.
 * quick_check reads every page; on a large backlog it takes a few seconds, reported in the detail.
 */
export function checkOutboxFile(config: GatewayConfig): CheckResult {
  const path = config.gateway.outbox.path;
  const base = { id: 'outbox', title: `outbox database ${path}` };
  if (!existsSync(path)) {
    try {
      accessSync(existingParent(path), constants.W_OK);
      return { ...base, status: 'warn', detail: 'not created yet (the gateway creates it at first start)', advice: 'nothing to do if the gateway has never run on this box' };
    } catch {
      return { ...base, status: 'fail', detail: `not created yet, and ${dirname(path)} is not writable by ${userInfo().username}`, advice: `create ${dirname(path)} owned by the edge-gateway user (the systemd unit's StateDirectory does this)` };
    }
  }
  const started = performance.now();
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 2000 });
    const check = String(db.pragma('quick_check', { simple: true }));
    const ms = Math.round(performance.now() - started);
    const size = formatBytes(statSync(path).size);
    if (check !== 'ok') {
      return { ...base, status: 'fail', detail: `quick_check: ${check}`, advice: 'the database is damaged: the gateway moves it aside and starts a fresh one at its next start (an outbox.quarantined event says so); keep the .corrupt file for analysis' };
    }
    const schema = readSchemaVersion(db);
    const schemaText = schema === OUTBOX_SCHEMA_VERSION ? `schema ${schema}` : schema === 0 ? `schema not recorded yet (the daemon records ${OUTBOX_SCHEMA_VERSION} at its next start)` : `schema ${schema}, this edge-gateway writes ${OUTBOX_SCHEMA_VERSION}`;
    if (schema > OUTBOX_SCHEMA_VERSION) {
      return { ...base, status: 'warn', detail: `readable, quick_check ok (${size}, ${ms} ms); ${schemaText}`, advice: 'the file was written by a newer edge-gateway: install that version again rather than running this older one on it' };
    }
    return { ...base, status: 'pass', detail: `readable, quick_check ok (${size}, ${ms} ms, ${schemaText})` };
  } catch (err) {
    const code = errnoOf(err) ?? 'ERROR';
    if (/SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_PERM/.test(code) || code === 'EACCES') {
      return { ...base, status: 'fail', detail: `cannot open read-only as ${userInfo().username}: ${(err as Error).message} (${code})`, advice: 'run doctor as root or as the edge-gateway user (the file and its -wal/-shm belong to it)' };
    }
    if (code === 'SQLITE_BUSY') {
      return { ...base, status: 'warn', detail: 'busy: the daemon held a lock for more than 2 s', advice: 'run doctor again; if it persists, the disk may be very slow' };
    }
    return { ...base, status: 'fail', detail: `${(err as Error).message} (${code})`, advice: 'the file may be damaged or not an outbox: the gateway quarantines an unreadable outbox at its next start' };
  } finally {
    db?.close();
  }
}

function existingParent(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
