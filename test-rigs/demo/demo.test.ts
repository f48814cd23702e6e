import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

/** The README's quick start promises `npm run demo` works: run it (briefly, with an outage). */
it('npm run demo shows readings arriving with no gaps, through a broker outage', async () => {
  const demo = join(import.meta.dirname, '../../dist/test-rigs/demo/demo.js');
  const { stdout } = await promisify(execFile)(process.execPath, [demo, '--duration', '22', '--outage'], { timeout: 60_000 });
  const lines = stdout.split('\n');
  expect(lines.some((l) => l.includes('broker stopped for 8 s'))).toBe(true);
  expect(lines.some((l) => l.includes('broker back'))).toBe(true);
  // During the outage the health message could not arrive, but after it the queue drains to 0.
  expect(lines.filter((l) => l.startsWith('[demo] status=online')).at(-1)).toMatch(/queue=0 /);
  const verdict = lines.find((l) => l.includes('→'))!;
  expect(verdict).toMatch(/gaps 0, duplicates \d+, malformed 0 → OK: nothing lost/);
  expect(Number(/received (\d+) readings/.exec(verdict)![1])).toBeGreaterThan(1000);
}, 90_000);
