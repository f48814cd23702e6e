import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

/** The README's quick start promises `npm run demo` works: run it (briefly, with an outage), as a pipe sees it. */
it('npm run demo shows readings arriving with no gaps, through a broker outage', async () => {
  const demo = join(import.meta.dirname, '../../dist/test-rigs/demo/demo.js');
  const { stdout } = await promisify(execFile)(process.execPath, [demo, '--duration', '22', '--outage'], { timeout: 60_000 });
  const lines = stdout.split('\n');
  expect(lines.some((l) => l.includes('broker stopped for 8 s'))).toBe(true);
  expect(lines.some((l) => l.includes('broker back'))).toBe(true);
  // During the outage the health message could not arrive, but after it the queue drains to 0.
  expect(lines.filter((l) => l.startsWith('[demo] status=online')).at(-1)).toMatch(/queue=0 /);
  // Readings themselves, not only counters: device, point, value (with unit where configured) and seq.
  const all = lines.map((l) => /^\[demo\] {3}reading seq=(\d+) (\S+) (\S+) = (\S+)(?: (\S+))?/.exec(l)).filter((m) => m !== null);
  // The gateway's own events (a fresh outbox announces itself: outbox.created) are shown too.
  const shown = all.filter((m) => m[2] !== '_gateway');
  expect(shown.length).toBeGreaterThan(20);
  const devices = new Set(shown.map((m) => m[2]));
  for (const d of devices) expect(['parking-north', 'parking-south', 'signal-main-5th', 'signal-main-6th']).toContain(d);
  expect(devices.size).toBeGreaterThanOrEqual(3);
  expect(new Set(shown.map((m) => m[3]))).toEqual(new Set(['vehicles', 'flow', 'temperature', 'total', 'door.open']));
  expect(shown.some((m) => m[3] === 'temperature' && /^\d+\.\d\d$/.test(m[4]!) && m[5] === 'degC')).toBe(true);
  const lastSeq = Number(/seq 1\.\.(\d+)/.exec(lines.find((l) => l.includes('→'))!)![1]);
  for (const m of all) expect(Number(m[1])).toBeLessThanOrEqual(lastSeq);
  // Shown once each: the lines move on with the stream rather than repeating old readings.
  expect(new Set(all.map((m) => m[1])).size).toBe(all.length);
  const verdict = lines.find((l) => l.includes('→'))!;
  expect(verdict).toMatch(/gaps 0, duplicates \d+, malformed 0, [\d.]+ B\/reading on the wire → OK: nothing lost/);
  expect(Number(/received (\d+) readings/.exec(verdict)![1])).toBeGreaterThan(1000);
}, 90_000);

/** The README's `npm run demo -- --parking`: scan -> gateway -> command centre -> barrier, and back. */
it('npm run demo -- --parking opens the barrier for paid tickets only and shows each round trip', async () => {
  const demo = join(import.meta.dirname, '../../dist/test-rigs/demo/demo.js');
  const { stdout } = await promisify(execFile)(process.execPath, [demo, '--parking', '--duration', '8'], { timeout: 60_000 });
  const lines = stdout.split('\n');
  const paid = lines.filter((l) => /scan T\d{10} at exit south\/2: paid -> command open-T\d{10}-/.test(l));
  const unpaid = lines.filter((l) => /scan T\d{9}[13579] at exit south\/2: NOT paid/.test(l));
  expect(paid.length).toBeGreaterThanOrEqual(1);
  expect(unpaid.length).toBeGreaterThanOrEqual(1);
  // Paid tickets end in an even digit, and each got its barrier pulse (the coil seen on, then off).
  for (const l of paid) expect(l).toMatch(/scan T\d{9}[02468] /);
  const executed = lines.filter((l) => /open-T\d{10}-\S+: executed, round trip \d+ ms/.test(l));
  expect(executed.length).toBe(paid.length);
  expect(lines.filter((l) => l.includes('coil 0 ON (arm raising)')).length).toBe(paid.length);
  expect(lines.find((l) => l.startsWith('[demo] parking:'))).toMatch(/(\d+) commands, \1 executed, 0 other; .* gateway exit 0 -> OK$/);
}, 90_000);
