import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itAsRoot } from '../../test-rigs/system/root.js';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { rootRunRefusal } from '../service-user.js';
import { OutboxAccessError } from './open-error.js';
import { openOrQuarantine, OUTBOX_FILE_MODE } from './open.js';

/**
 * An outbox the daemon may not open is not a corrupt outbox. The scenario from the field:
 * `sudo edge-gateway run` leaves a root-owned outbox in the service user's state directory; the
 * service then runs as that user. Here the service user is `nobody` (tests run as root).
 */
const NOBODY = 65534;

let broker: BrokerFixture;
beforeAll(async () => {
  broker = await startBroker();
}, 30_000);
afterAll(async () => {
  await broker?.stop();
});

describe('outbox left root-owned by a manual root run', () => {
  itAsRoot('the service user gets exit 78 and a chown hint naming path, owner and mode; nothing is moved', async () => {
    const state = mkdtempSync(join(tmpdir(), 'edge-gw-state-'));
    chmodSync(state, 0o755);
    const config = writeConfigDir({
      brokerUrls: [broker.url],
      gateway: { outbox: { path: join(state, 'outbox.db') }, control: { socket: join(state, 'control.sock') } },
    });
    chmodSync(config.dir, 0o755);
    for (const f of ['gateway.yaml']) chmodSync(join(config.dir, f), 0o644);

    // 1. The technician's `sudo edge-gateway run`: the outbox is created as root.
    const asRoot = GatewayProcess.start(config.dir);
    await asRoot.ready();
    await asRoot.waitForLog((l) => l.msg === 'outbox open');
    await asRoot.stop();
    const before = statSync(join(state, 'outbox.db'));
    expect(before.uid).toBe(0);
    // The file is created with an explicit mode, not whatever the caller's umask allowed.
    expect(before.mode & 0o777).toBe(OUTBOX_FILE_MODE);
    const seqBefore = (new Database(join(state, 'outbox.db'), { readonly: true }).prepare("SELECT count AS n FROM telemetry WHERE first_seq = 0").get() as { n: number } | undefined)?.n;

    // 2. The service (its state directory is its own, the files in it are root's).
    chownSync(state, NOBODY, NOBODY);
    const asService = GatewayProcess.start(config.dir, { wrapper: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] });
    const exit = await asService.waitExit();
    expect(exit.code).toBe(78);
    const said = asService.stderr.join('\n');
    expect(said).toContain(`outbox ${join(state, 'outbox.db')}`);
    expect(said).toMatch(/owned by root:root, mode 0640/);
    expect(said).toContain(`chown -R nobody: ${state}`);
    expect(said).toContain('Nothing was moved');
    // The backlog is where it was, same file, nothing quarantined.
    expect(readdirSync(state).filter((f) => f.includes('.corrupt-'))).toEqual([]);
    const after = statSync(join(state, 'outbox.db'));
    expect(after.ino).toBe(before.ino);
    const seqAfter = (new Database(join(state, 'outbox.db'), { readonly: true }).prepare("SELECT count AS n FROM telemetry WHERE first_seq = 0").get() as { n: number } | undefined)?.n;
    expect(seqAfter).toBe(seqBefore);
  }, 60_000);
});

describe('openOrQuarantine error classification', () => {
  it('a missing directory that cannot be created is an access problem, not corruption', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-gw-open-'));
    writeFileSync(join(dir, 'not-a-dir'), '');
    const path = join(dir, 'not-a-dir', 'outbox.db');
    expect(() => openOrQuarantine(path)).toThrow(OutboxAccessError);
    expect(() => openOrQuarantine(path)).toThrow(/(EEXIST|ENOTDIR).*is a file, not a directory.*Nothing was moved/);
  });

  it('still quarantines a file that is not a database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-gw-open-'));
    const path = join(dir, 'outbox.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const { db, quarantine } = openOrQuarantine(path);
    db.close();
    expect(quarantine?.reason).toMatch(/SQLITE_NOTADB/);
    expect(existsSync(quarantine!.movedTo)).toBe(true);
  });

  it('creates a new outbox with mode 0640 regardless of umask', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-gw-open-'));
    const old = process.umask(0o000);
    try {
      const { db } = openOrQuarantine(join(dir, 'sub', 'outbox.db'));
      db.close();
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'sub', 'outbox.db')).mode & 0o777).toBe(0o640);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o750);
  });
});

describe('run as root while the service user exists', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nedge-gateway:x:998:998::/var/lib/edge-gateway:/usr/sbin/nologin\n';
  it('is refused with the way to do it right', () => {
    const msg = rootRunRefusal(0, passwd, false);
    expect(msg).toContain('refusing to run as root');
    expect(msg).toContain('sudo -u edge-gateway edge-gateway run');
    expect(msg).toContain('--allow-root');
  });
  it('is allowed with --allow-root, as another user, or where no service user exists', () => {
    expect(rootRunRefusal(0, passwd, true)).toBeNull();
    expect(rootRunRefusal(998, passwd, false)).toBeNull();
    expect(rootRunRefusal(0, 'root:x:0:0:root:/root:/bin/bash\n', false)).toBeNull();
  });
});
