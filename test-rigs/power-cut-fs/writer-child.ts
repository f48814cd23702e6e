import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

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
