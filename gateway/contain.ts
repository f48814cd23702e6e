import type { Logger } from 'pino';

/**
 * The daemon's containment rule: an error inside one control request, one driver callback or
 * one timer tick is logged with what was running and goes no further. Only the outbox writer's
 * death stops the daemon (the watchdog sees it and systemd restarts us); everything else must
 * leave the rest of the data path running.
 *
 * `contained(log, ctx, msg, fn)` returns `fn` wrapped so that a throw, or a rejection of the
 * promise it returns, is logged at error level with `ctx` and swallowed. Repeats are logged at
 * most once per `quietMs` per wrapper so a timer failing every second cannot flood the journal.
 */
export function contained<A extends unknown[]>(
  log: Logger,
  ctx: Record<string, unknown>,
  msg: string,
  fn: (...args: A) => unknown,
  quietMs = 60_000,
): (...args: A) => void {
  let failures = 0;
  let lastLogMs = -Infinity;
  const report = (err: unknown) => {
    failures++;
    const now = Date.now();
    if (now - lastLogMs < quietMs) return;
    lastLogMs = now;
    log.error({ ...ctx, err, failures }, `${msg}; contained, the daemon keeps running`);
  };
  return (...args: A) => {
    try {
      const r = fn(...args);
      if (r instanceof Promise) r.catch(report);
    } catch (err) {
      report(err);
    }
  };
}
