import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach } from 'vitest';
import { mountPowerCutFs, type PowerCutFs } from './power-cut-fs.js';

/**
 * The writer side of a power-cut test: a child Node process runs `script` (an ES module body)
 * and prints what it made durable, line by line, then `done`; it is SIGKILLed right after, with
 * nothing flushed on the way out, before the test cuts the power. Resolves with every line
 * before `done`; rejects with the child's stderr if it never got there.
 */
export async function runWriterUntilDone(script: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  let done = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'done') {
      done = true;
      break;
    }
    lines.push(line);
  }
  child.kill('SIGKILL');
  await once(child, 'exit');
  if (!done) throw new Error(`power-cut writer child failed before "done": ${stderr}`);
  return lines;
}

/**
 * Mount a fresh power-cut-fs before each test of the calling suite and unmount it after; `built`
 * is the compiled module the writer child imports (it must exist: `npm test` builds dist/ first).
 * Returns a getter for the current mount.
 */
export function eachPowerCutFs(built: string): () => PowerCutFs {
  let fs: PowerCutFs | undefined;
  beforeEach(async () => {
    if (!existsSync(built)) throw new Error(`${built} missing: run npm run build first (npm test does)`);
    fs = await mountPowerCutFs();
  });
  afterEach(async () => {
    await fs?.unmount();
    fs = undefined;
  });
  return () => fs!;
}
