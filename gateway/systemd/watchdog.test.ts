import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startWatchdog, watchdogIntervalMs, type WatchdogHandle } from './watchdog.js';
import { createSystemdNotifier } from './notify.js';
import { startNotifyListener, type NotifyListener } from '../../test-rigs/systemd/notify-listener.js';

type Event =
  | { kind: 'ping' }
  | { kind: 'log'; level: number; code?: string; msg: string; fields: Record<string, unknown> }
  | { kind: 'mark'; name: string };

/** Pings and log lines land in one ordered list, so a test can ask what happened first. */
function recorder() {
  const events: Event[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (!l) continue;
        const o = JSON.parse(l) as { level: number; code?: string; msg: string };
        events.push({ kind: 'log', level: o.level, code: o.code, msg: o.msg, fields: o });
      }
      cb();
    },
  });
  return {
    events,
    log: pino({ level: 'debug' }, stream),
    notify: {
      watchdog: () => {
        events.push({ kind: 'ping' });
        return Promise.resolve(true);
      },
    },
    pings: () => events.filter((e) => e.kind === 'ping').length,
    mark: (name: string) => events.push({ kind: 'mark', name }),
  };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const handles: WatchdogHandle[] = [];
const listeners: NotifyListener[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) h.stop();
  for (const l of listeners.splice(0)) await l.stop();
});

// Colleagues share this 2-core box: tests not about loop lag tolerate long scheduling hiccups so
// that noise cannot masquerade as a wedged loop.
const RELAXED_LAG_MS = 5000;

function start(
  r: ReturnType<typeof recorder>,
  env: NodeJS.ProcessEnv,
  isAlive: () => boolean = () => true,
  maxLoopLagMs = RELAXED_LAG_MS,
) {
  const h = startWatchdog({ notify: r.notify, isAlive, log: r.log, env, maxLoopLagMs });
  handles.push(h);
  return h;
}

describe('watchdog configuration from the environment systemd sets', () => {
  it('is disabled without WATCHDOG_USEC and never pings', async () => {
    const r = recorder();
    const h = start(r, {});
    expect(h.enabled).toBe(false);
    expect(h.pingIntervalMs).toBeNull();
    await sleep(200);
    expect(r.pings()).toBe(0);
  });

  it('ignores a watchdog meant for another PID (inherited by a child)', () => {
    const r = recorder();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, r.log, 4242)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' }, r.log, 4242)).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, r.log, 4242)).toBe(30_000);
  });

  it('rejects a malformed WATCHDOG_USEC with a coded warning instead of crashing', () => {
    const r = recorder();
    for (const bad of ['abc', '-5', '0', '1.5e6']) expect(watchdogIntervalMs({ WATCHDOG_USEC: bad }, r.log)).toBeNull();
    const codes = r.events.flatMap((e) => (e.kind === 'log' ? [e.code] : []));
    expect(codes).toEqual(['WATCHDOG_BAD_ENV', 'WATCHDOG_BAD_ENV', 'WATCHDOG_BAD_ENV', 'WATCHDOG_BAD_ENV']);
  });
});

describe('watchdog pinging', () => {
  it('pings at about half the watchdog interval while healthy', async () => {
    const r = recorder();
    const h = start(r, { WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) });
    expect(h.enabled).toBe(true);
    expect(h.pingIntervalMs).toBe(200);
    const t0 = Date.now();
    await until(() => r.pings() >= 5, 10_000, '5 pings');
    // 5 pings at 200 ms cannot legitimately arrive in much under 800 ms.
    expect(Date.now() - t0).toBeGreaterThan(700);
    expect(h.stats().withheldLoopLag + h.stats().withheldNotAlive).toBe(0);
  });

  it('stops pinging while isAlive() is false, logs once, and resumes when it recovers', async () => {
    const r = recorder();
    let alive = true;
    const h = start(r, { WATCHDOG_USEC: '200000' }, () => alive);
    await until(() => r.pings() >= 2, 10_000, 'first pings');
    alive = false;
    const pingsAtFailure = r.pings();
    await until(() => h.stats().withheldNotAlive >= 3, 10_000, 'three withheld pings');
    // At most one ping can have been decided before the flag flipped mid-period.
    expect(r.pings()).toBeLessThanOrEqual(pingsAtFailure + 1);
    const frozen = r.pings();
    await sleep(300);
    expect(r.pings()).toBe(frozen);
    const warnings = r.events.filter((e) => e.kind === 'log' && e.level === 40);
    expect(warnings).toEqual([expect.objectContaining({ code: 'WATCHDOG_WITHHELD_NOT_ALIVE' })]);

    alive = true;
    await until(() => r.pings() > frozen, 10_000, 'pings to resume');
    expect(r.events.some((e) => e.kind === 'log' && e.msg === 'watchdog pings resumed')).toBe(true);
  });

  it('treats a throwing liveness probe as not alive', async () => {
    const r = recorder();
    const h = start(r, { WATCHDOG_USEC: '200000' }, () => {
      throw new Error('outbox handle closed');
    });
    await until(() => h.stats().withheldNotAlive >= 2, 10_000, 'withheld pings');
    expect(r.pings()).toBe(0);
  });

  it('withholds the ping that follows a blocked event loop, then resumes', async () => {
    const r = recorder();
    // Pings every 500 ms; a 1.5 s stall is far beyond the 400 ms bound and must not be certified.
    const h = start(r, { WATCHDOG_USEC: '1000000' }, () => true, 400);
    await until(() => r.pings() >= 2, 10_000, 'first pings');
    r.mark('block-start');
    const until1500 = Date.now() + 1500;
    while (Date.now() < until1500) {
      // Deliberately wedge the event loop, as a runaway synchronous loop would.
    }
    r.mark('block-end');
    await until(() => h.stats().withheldLoopLag >= 1, 10_000, 'a withheld ping');
    const afterBlock = r.events.slice(r.events.findIndex((e) => e.kind === 'mark' && e.name === 'block-end') + 1);
    // The overdue timer fires right after the stall: it must report the stall, not ping.
    expect(afterBlock[0]).toEqual(expect.objectContaining({ kind: 'log', code: 'WATCHDOG_WITHHELD_LOOP_LAG' }));
    expect(h.stats().lastLoopLagMs).toBeGreaterThan(1000);
    const pings = r.pings();
    await until(() => r.pings() > pings, 10_000, 'pings to resume after the stall');
  });

  it('defaults the stall bound to half the ping interval (a quarter of WatchdogSec)', () => {
    const r = recorder();
    const h = startWatchdog({ notify: r.notify, isAlive: () => true, log: r.log, env: { WATCHDOG_USEC: '30000000' } });
    handles.push(h);
    expect(h.pingIntervalMs).toBe(15_000);
    expect(r.events).toContainEqual(
      expect.objectContaining({
        msg: 'systemd watchdog armed',
        fields: expect.objectContaining({ watchdogMs: 30_000, pingIntervalMs: 15_000, maxLoopLagMs: 7500 }),
      }),
    );
  });

  it('stop() ends pinging', async () => {
    const r = recorder();
    const h = start(r, { WATCHDOG_USEC: '100000' });
    await until(() => r.pings() >= 1, 10_000, 'a ping');
    h.stop();
    const n = r.pings();
    await sleep(300);
    expect(r.pings()).toBe(n);
  });
});

describe('watchdog through the real notifier and a real notify socket', () => {
  it('delivers WATCHDOG=1 datagrams and stops delivering them when not alive', async () => {
    const l = await startNotifyListener();
    listeners.push(l);
    const r = recorder();
    const notify = createSystemdNotifier({ log: r.log, env: { NOTIFY_SOCKET: l.socketPath } });
    let alive = true;
    const h = startWatchdog({ notify, isAlive: () => alive, log: r.log, env: { WATCHDOG_USEC: '300000' }, maxLoopLagMs: RELAXED_LAG_MS });
    handles.push(h);
    const first = await l.waitFor(/^WATCHDOG=1$/, 5000);
    await l.waitFor(/^WATCHDOG=1$/, 5000, first.index + 1);
    alive = false;
    await until(() => h.stats().withheldNotAlive >= 1, 10_000, 'a withheld ping');
    await sleep(300); // let a ping decided just before the flip reach the socket
    const count = l.messages.filter((m) => m === 'WATCHDOG=1').length;
    await until(() => h.stats().withheldNotAlive >= 4, 10_000, 'more withheld pings');
    expect(l.messages.filter((m) => m === 'WATCHDOG=1').length).toBe(count);
  });
});
