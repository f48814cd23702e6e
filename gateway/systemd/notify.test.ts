import { afterEach, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createSystemdNotifier } from './notify.js';
import { parseNotification, startNotifyListener, type NotifyListener } from '../../test-rigs/systemd/notify-listener.js';

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  [k: string]: unknown;
}

function captureLog() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** The notifications proper, without the BARRIER=1 datagrams systemd-notify adds to each. */
function notifications(listener: NotifyListener): Record<string, string>[] {
  return listener.messages.filter((m) => m !== 'BARRIER=1').map(parseNotification);
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listener(abstract = false): Promise<NotifyListener> {
  const l = await startNotifyListener({ abstract });
  cleanups.push(() => l.stop());
  return l;
}

describe('systemd notifier over a real unix datagram socket', () => {
  it('sends READY, WATCHDOG, RELOADING then READY, STOPPING in order', async () => {
    const l = await listener();
    const { log, lines } = captureLog();
    const n = createSystemdNotifier({ log, env: { NOTIFY_SOCKET: l.socketPath, PATH: process.env.PATH } });
    expect(n.enabled).toBe(true);

    expect(await n.ready('3 devices up')).toBe(true);
    expect(await n.watchdog()).toBe(true);
    const before = process.hrtime.bigint() / 1000n;
    expect(await n.reloading('reloading config')).toBe(true);
    const after = process.hrtime.bigint() / 1000n;
    expect(await n.ready()).toBe(true);
    expect(await n.stopping()).toBe(true);

    const got = notifications(l);
    expect(got.map((f) => Object.keys(f).filter((k) => k !== 'STATUS' && k !== 'MONOTONIC_USEC')[0])).toEqual([
      'READY',
      'WATCHDOG',
      'RELOADING',
      'READY',
      'STOPPING',
    ]);
    expect(got[0]).toEqual({ READY: '1', STATUS: '3 devices up' });
    expect(got[1]).toEqual({ WATCHDOG: '1' });
    const mono = BigInt(got[2]!.MONOTONIC_USEC!);
    expect(mono >= before && mono <= after).toBe(true);
    expect(got[2]!.RELOADING).toBe('1');
    expect(lines.filter((x) => x.level >= 40)).toEqual([]);
  });

  it('reaches an abstract-namespace socket (NOTIFY_SOCKET=@name)', async () => {
    const l = await listener(true);
    expect(l.socketPath.startsWith('@')).toBe(true);
    const n = createSystemdNotifier({ log: captureLog().log, env: { NOTIFY_SOCKET: l.socketPath } });
    expect(await n.ready()).toBe(true);
    await l.waitFor(/^READY=1$/m, 5000);
  });

  it('keeps STATUS text on one line so it cannot inject other assignments', async () => {
    const l = await listener();
    const n = createSystemdNotifier({ log: captureLog().log, env: { NOTIFY_SOCKET: l.socketPath } });
    expect(await n.status('line one\nREADY=1\r\nline three')).toBe(true);
    expect(notifications(l)).toEqual([{ STATUS: 'line one READY=1 line three' }]);
  });

  it('delivers concurrent calls one at a time, in call order, merging queued pings', async () => {
    const l = await listener();
    const n = createSystemdNotifier({ log: captureLog().log, env: { NOTIFY_SOCKET: l.socketPath } });
    const results = await Promise.all([
      n.status('a'),
      n.watchdog(),
      n.watchdog(),
      n.watchdog(),
      n.status('b'),
      n.stopping(),
    ]);
    expect(results).toEqual([true, true, true, true, true, true]);
    expect(notifications(l)).toEqual([{ STATUS: 'a' }, { WATCHDOG: '1' }, { STATUS: 'b' }, { STOPPING: '1' }]);
  });
});

describe('systemd notifier when there is nothing (good) to talk to', () => {
  it('is a silent no-op without NOTIFY_SOCKET', async () => {
    const { log, lines } = captureLog();
    const n = createSystemdNotifier({ log, env: {}, command: '/nonexistent/systemd-notify' });
    expect(n.enabled).toBe(false);
    expect(await n.ready()).toBe(false);
    expect(await n.watchdog()).toBe(false);
    expect(lines).toEqual([]);
  });

  it('refuses a NOTIFY_SOCKET that is neither a path nor @name, with a coded warning', async () => {
    const { log, lines } = captureLog();
    const n = createSystemdNotifier({ log, env: { NOTIFY_SOCKET: 'relative/notify' } });
    expect(n.enabled).toBe(false);
    expect(await n.ready()).toBe(false);
    expect(lines.map((x) => x.code)).toEqual(['SD_NOTIFY_BAD_SOCKET']);
  });

  it('logs an unreachable socket once per failure streak, never throws, and logs recovery', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-gw-notify-missing-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { log, lines } = captureLog();
    const n = createSystemdNotifier({ log, env: { NOTIFY_SOCKET: join(dir, 'nobody-here.sock') } });
    for (let i = 0; i < 3; i++) expect(await n.watchdog()).toBe(false);
    const warnings = lines.filter((x) => x.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('SD_NOTIFY_REJECTED');
    expect(warnings[0]!.msg).toMatch(/systemd-notify exited with code 1: .*No such file/);
    expect(warnings[0]!.socket).toBe(join(dir, 'nobody-here.sock'));
    expect(warnings[0]!.message).toBe('WATCHDOG');
  });

  it('recovers after failures once the socket appears, logging the recovery', async () => {
    const l = await listener();
    const { log, lines } = captureLog();
    // The manager's socket is missing at first and appears later (a symlink to the live one).
    const missing = l.socketPath + '.later';
    const n = createSystemdNotifier({ log, env: { NOTIFY_SOCKET: missing } });
    expect(await n.watchdog()).toBe(false);
    await symlink(l.socketPath, missing);
    expect(await n.watchdog()).toBe(true);
    expect(lines.map((x) => [x.level, x.code ?? x.msg])).toEqual([
      [40, 'SD_NOTIFY_REJECTED'],
      [30, 'systemd notifications delivered again'],
    ]);
    await l.waitFor(/^WATCHDOG=1$/m, 5000);
  });

  it('reports a missing helper binary as SD_NOTIFY_SPAWN_FAILED', async () => {
    const l = await listener();
    const { log, lines } = captureLog();
    const n = createSystemdNotifier({ log, env: { NOTIFY_SOCKET: l.socketPath }, command: '/nonexistent/systemd-notify' });
    expect(await n.ready()).toBe(false);
    expect(lines.map((x) => x.code)).toEqual(['SD_NOTIFY_SPAWN_FAILED']);
    expect(lines[0]!.msg).toContain('ENOENT');
  });

  it('kills a helper that hangs, reports SD_NOTIFY_TIMEOUT, and does not block later messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-gw-notify-hang-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const hang = join(dir, 'hang.sh');
    await writeFile(hang, '#!/bin/sh\nexec sleep 30\n');
    await chmod(hang, 0o755);
    const { log, lines } = captureLog();
    const n = createSystemdNotifier({ log, env: { NOTIFY_SOCKET: '/run/unused.sock' }, command: hang, timeoutMs: 300 });
    const started = Date.now();
    expect(await n.stopping()).toBe(false);
    expect(await n.watchdog()).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lines.map((x) => x.code)).toEqual(['SD_NOTIFY_TIMEOUT']);
  });
});
