import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, fsyncSync, readFileSync, writeFileSync, writeSync, statSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeWithFuse } from '../system/root.js';
import { mountPowerCutFs, type PowerCutFs } from './power-cut-fs.js';

/**
 * A writer that dies the way a power cut kills it: it commits `rows` transactions (one row each)
 * to a WAL database, reports, and is SIGKILLed before it can close anything.
 */
async function commitThenDie(path: string, synchronous: 'NORMAL' | 'FULL', rows: number): Promise<void> {
  const script = `
    import Database from 'better-sqlite3';
    const db = new Database(${JSON.stringify(path)});
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = ${synchronous}');
    db.exec('CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY)');
    // A checkpoint makes the table itself durable; the rows after it are what the cut is about.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    for (let i = 1; i <= ${rows}; i++) insert.run(i);
    process.stdout.write('committed\\n');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const [chunk] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit')])) as [Buffer | number];
  if (!Buffer.isBuffer(chunk) || !chunk.toString().includes('committed')) throw new Error(`writer failed: ${err}`);
  child.kill('SIGKILL');
  await once(child, 'exit');
}

/** Read-only, so that closing it does not checkpoint (which would fsync what the test is about). */
function countRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describeWithFuse('power-cut-fs', () => {
  let fs: PowerCutFs;
  beforeEach(async () => {
    fs = await mountPowerCutFs();
  });
  afterEach(async () => {
    await fs.unmount();
  });

  it('reads see un-synced writes; a cut discards them and keeps what was fsynced', () => {
    const file = join(fs.mountpoint, 'f');
    const fd = openSync(file, 'w+');
    writeSync(fd, 'durable');
    fsyncSync(fd);
    writeSync(fd, '+volatile');
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('durable+volatile');
    expect(readFileSync(join(fs.backing, 'f'), 'utf8')).toBe('durable');
    fs.cut();
    expect(readFileSync(file, 'utf8')).toBe('durable');
    expect(fs.stats()).toMatchObject({ fsyncs: 1, cuts: 1 });
  });

  it('create, rename and truncate are durable at once; a never-synced file survives a cut empty', () => {
    writeFileSync(join(fs.mountpoint, 'a'), 'never synced');
    renameSync(join(fs.mountpoint, 'a'), join(fs.mountpoint, 'b'));
    fs.cut();
    expect(statSync(join(fs.mountpoint, 'b')).size).toBe(0);
    const fd = openSync(join(fs.mountpoint, 'c'), 'w+');
    writeSync(fd, 'x'.repeat(10_000));
    fsyncSync(fd);
    closeSync(fd);
    writeFileSync(join(fs.mountpoint, 'c'), 'short'); // O_TRUNC (durable) + a volatile write
    fs.cut();
    expect(statSync(join(fs.mountpoint, 'c')).size).toBe(0);
  });

  it('SQLite WAL + synchronous=NORMAL loses the last commits at a cut; FULL keeps every one', async () => {
    const normal = join(fs.mountpoint, 'normal.db');
    await commitThenDie(normal, 'NORMAL', 200);
    // A SIGKILL alone loses nothing: the writes are in the filesystem, just not durable.
    expect(countRows(normal)).toBe(200);
    const full = join(fs.mountpoint, 'full.db');
    await commitThenDie(full, 'FULL', 200);
    fs.cut();
    expect(countRows(normal)).toBe(0);
    expect(countRows(full)).toBe(200);
  }, 30_000);
});
