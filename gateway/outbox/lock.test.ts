import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OUTBOX_LOCKED, OutboxLock, OutboxLockedError, readHolder } from './lock.js';

/** One daemon per outbox: the lock, its holder record, and that the kernel drops it with the process. */
const dir = mkdtempSync(join(tmpdir(), 'edge-gw-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(outbox: string): OutboxLockedError {
  try {
    OutboxLock.acquire(outbox).release();
  } catch (err) {
    if (err instanceof OutboxLockedError) return err;
    throw err;
  }
  throw new Error('the lock was not refused');
}

describe('the outbox lock', () => {
  it('refuses a second holder, naming the first, until the first lets go', () => {
    const outbox = join(dir, 'a', 'outbox.db');
    const lock = OutboxLock.acquire(outbox, { configDir: '/etc/edge-gateway', version: '9.9.9' });
    expect(readHolder(outbox)).toMatchObject({ pid: process.pid, configDir: '/etc/edge-gateway', version: '9.9.9' });
    const err = refusal(outbox);
    expect(err.exitCode).toBe(EXIT_OUTBOX_LOCKED);
    expect(err.holder?.pid).toBe(process.pid);
    expect(err.message).toContain(`held by pid ${process.pid} on `);
    expect(err.message).toContain('config /etc/edge-gateway, version 9.9.9');
    // The refused attempt closed its own handle: the holder's lock must have survived that.
    expect(refusal(outbox).holder?.pid).toBe(process.pid);
    lock.release();
    expect(readHolder(outbox)).toBeNull();
    OutboxLock.acquire(outbox).release();
  });

  it('is dropped by the kernel when the holder is killed (SIGKILL leaves nothing stale)', async () => {
    const outbox = join(dir, 'b', 'outbox.db');
    // Another process holding it, from the built module (as the daemon would). The lock is kept
    // referenced, as the daemon's stop closure keeps it: a collected connection closes and frees it.
    const built = join(import.meta.dirname, '../../dist/gateway/outbox/lock.js');
    const script = `const { OutboxLock } = await import(${JSON.stringify(built)}); globalThis.held = OutboxLock.acquire(${JSON.stringify(outbox)}); console.log('held'); setInterval(() => {}, 1000);`;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface({ input: holder.stdout! }), 'line')) as [string];
      expect(line).toBe('held');
      expect(refusal(outbox).holder?.pid).toBe(holder.pid);
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      // The record still names the dead holder; the lock itself is free.
      expect(readHolder(outbox)?.pid).toBe(holder.pid);
      const lock = OutboxLock.acquire(outbox);
      expect(readHolder(outbox)?.pid).toBe(process.pid);
      lock.release();
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
