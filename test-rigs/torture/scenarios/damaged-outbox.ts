import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { expect } from 'vitest';
import type { ScenarioFigures } from '../figures.js';
import { committedUpTo, integrityCheck, outboxId, storedRanges } from '../outbox-file.js';
import { sleep, TortureRig, type Profile } from '../rig.js';
import { readWalLayout } from '../wal-file.js';

/**
 * The outbox file is damaged between two runs.
 * - corrupt: b-tree pages overwritten after a clean stop. The daemon must move the file aside
 *   untouched, start a fresh outbox, say so upstream (`outbox.quarantined`), and keep forwarding.
 * - torn WAL: SIGKILL with a backlog in the WAL, then the -wal file cut in the middle of the last
 *   transaction's commit frame (what a power cut during a write can leave behind).
 */

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

export async function corruptOutboxScenario(profile: Profile): Promise<ScenarioFigures> {
  const rig = await TortureRig.start({ scenario: `corrupt-db-${profile}`, profile, devices: 2, registersPerDevice: 10, pollMs: 25, keepReadings: true });
  try {
    let gw = await rig.startGatewayReady();
    await rig.progress(500, 'start');
    // A backlog that never gets out: it is in the file we are about to damage.
    await rig.broker.stop();
    await sleep(1_000);
    expect((await gw.stop()).code).toBe(0);
    const oldId = outboxId(rig.outboxPath);
    const oldLast = committedUpTo(rig.outboxPath);

    // Overwrite the header of every other b-tree page from page 3 on (page 1 holds the schema).
    const pageSize = 4096;
    const size = statSync(rig.outboxPath).size;
    const fd = openSync(rig.outboxPath, 'r+');
    let damagedPages = 0;
    try {
      for (let page = 3; page * pageSize <= size; page += 2) {
        writeSync(fd, Buffer.alloc(16, 0xa5), 0, 16, (page - 1) * pageSize);
        damagedPages++;
      }
    } finally {
      closeSync(fd);
    }
    expect(damagedPages, 'the outbox must have pages to damage').toBeGreaterThan(0);
    const damagedSha = sha256(rig.outboxPath);

    await rig.broker.start();
    gw = await rig.startGatewayReady();
    const opened = await gw.waitForLog((l) => l.msg === 'outbox open');
    const quarantined = await gw.waitForLog((l) => l.msg === 'outbox database was corrupt: quarantined it and started a fresh one');
    const movedTo = String(quarantined.movedTo);
    expect(dirname(movedTo)).toBe(dirname(rig.outboxPath));
    expect(basename(movedTo)).toMatch(/^outbox\.db\.corrupt-/);
    // Kept, byte for byte: whoever analyses it later gets exactly what was found.
    expect(sha256(movedTo), 'the quarantined file is the damaged file, unmodified').toBe(damagedSha);
    await rig.sub.waitFor((s) => s.readings.some((r) => r.device === '_gateway' && r.point === 'outbox.quarantined'), 30_000);
    const event = rig.sub.readings.find((r) => r.device === '_gateway' && r.point === 'outbox.quarantined')!;
    expect(event.value).toBe(movedTo);
    expect(event.kind).toBe('event');
    expect(String(event.attrs?.reason ?? '')).not.toBe('');
    await rig.progress(500, 'fresh outbox');
    expect(rig.isRunning()).toBe(true);

    const newId = outboxId(rig.outboxPath);
    expect(newId).not.toBe(oldId);
    const firstSeq = Number(opened.nextSeq);
    // Numbering continues when the damaged file still yields its counter; never reused.
    if (event.attrs?.continuedSeq === true) expect(firstSeq).toBeGreaterThan(oldLast);
    const quarantineFiles = readdirSync(dirname(rig.outboxPath)).filter((f) => f.startsWith('outbox.db.corrupt-'));
    return await rig.finish({
      interruptions: 1,
      fromSeq: firstSeq,
      quarantineExpected: true,
      extra: { damagedPages, continuedSeq: event.attrs?.continuedSeq === true, firstSeqOfNewOutbox: firstSeq, damagedOutboxLastSeq: oldLast, quarantineFiles: quarantineFiles.length },
    });
  } finally {
    await rig.dispose();
  }
}

/** Open a copy of db + wal (cut at `walBytes`) and read what SQLite recovers from it. */
function recoveredState(dbPath: string, walBytes: number): { nextSeq: number; ranges: [number, number][] } {
  const dir = mkdtempSync(join(tmpdir(), 'edge-gw-walcut-'));
  try {
    const db = join(dir, 'outbox.db');
    copyFileSync(dbPath, db);
    copyFileSync(`${dbPath}-wal`, `${db}-wal`);
    truncateSync(`${db}-wal`, walBytes);
    // A writable open runs WAL recovery exactly as the daemon's open will.
    new Database(db).close();
    return { nextSeq: committedUpTo(db) + 1, ranges: storedRanges(db) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function tornWalScenario(profile: Profile): Promise<ScenarioFigures> {
  const rig = await TortureRig.start({ scenario: `torn-wal-${profile}`, profile, devices: 4, registersPerDevice: 10, pollMs: 25 });
  try {
    let gw = await rig.startGatewayReady();
    await rig.progress(500, 'start');
    await rig.broker.stop();
    await sleep(2_000);
    await gw.kill('SIGKILL');

    const wal = `${rig.outboxPath}-wal`;
    const layout = readWalLayout(wal);
    expect(layout.commitEnds.length, 'transactions in the WAL after the kill').toBeGreaterThanOrEqual(2);
    const lastEnd = layout.commitEnds.at(-1)!;
    const prevEnd = layout.commitEnds.at(-2)!;
    // Mid-frame: half of the last commit frame is missing.
    const tearAt = lastEnd - Math.floor(layout.frameSize / 2);
    const full = recoveredState(rig.outboxPath, statSync(wal).size);
    const expected = recoveredState(rig.outboxPath, prevEnd);
    expect(expected.nextSeq, 'the torn transaction held readings').toBeLessThan(full.nextSeq);
    truncateSync(wal, tearAt);

    // The daemon opens the torn file: no quarantine, exactly the state as of the previous commit.
    gw = await rig.startGatewayReady();
    const opened = await gw.waitForLog((l) => l.msg === 'outbox open');
    // After an unclean stop `normal` resumes above its reserved seq block: the declared skip starts
    // exactly where the last intact commit left the counter.
    const skipped = await gw.waitForLog((l) => l.msg === 'outbox skipped seqs after an unclean stop');
    expect(Number(skipped.fromSeq), 'next seq after recovery = next seq at the last intact commit').toBe(expected.nextSeq);
    expect(Number(opened.nextSeq), 'numbering continues right above the declared range').toBe(Number(skipped.toSeq) + 1);
    expect((await gw.stop()).code).toBe(0);
    expect(integrityCheck(rig.outboxPath)).toBe('ok');
    // The daemon may have committed new readings after opening; compare only below the tear.
    const below = (ranges: [number, number][]): [number, number][] =>
      ranges.filter(([a]) => a < expected.nextSeq).map(([a, b]) => [a, Math.min(b, expected.nextSeq - 1)]);
    expect(below(storedRanges(rig.outboxPath)), 'rows below the tear survive unchanged').toEqual(below(expected.ranges));

    await rig.broker.start();
    await rig.startGatewayReady();
    await rig.progress(1000, 'after the torn WAL');
    return await rig.finish({
      interruptions: 1,
      extra: {
        walFrames: layout.validFrames,
        walCommits: layout.commitEnds.length,
        tearAtByte: tearAt,
        lostInTornTransaction: full.nextSeq - expected.nextSeq,
      },
    });
  } finally {
    await rig.dispose();
  }
}
