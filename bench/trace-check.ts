/**
 * Issue #25's "no change lost beyond the deadband, checked against the trace", for a bench window
 * of a replayed trace: the subscriber's series of one point, rebuilt by sample and hold as
 * docs/payload.md says (a value holds until the next reading or heartbeat), compared with what the
 * simulator really held.
 *
 * The bench cannot put the trace's step in every poll (a register sent on every poll would be most
 * of the bytes report by exception saves), so it aligns by clock instead: the simulator, in the
 * bench's process, logs when each step became visible, and a reading's `ts` is when the daemon
 * read the device. A poll's timestamp and the step it saw can straddle a step boundary, and a poll
 * can come late on a busy machine, so a held value is judged against every step the device showed
 * in the last `lagMs` (and `slackMs` ahead). A held value that is wrong for a moment and then
 * right again (a poll that came late; seen on a loaded machine, the same instant on every
 * controller) is counted apart, as late; one wrong for longer than `lateMs` is a lost change: a
 * change the gateway dropped stays wrong until the next change, seconds later at these traces'
 * rates. (A dropped change followed within `lateMs` by another one would count as late.)
 */
export interface HeldSeriesInput {
  /** Date.now() at which step s became visible at the device, index s, increasing. */
  stepTimes: readonly number[];
  /** The value the driver reads at `step` (sign and scale applied). */
  truth: (step: number) => number;
  deadband: number;
  /** What the subscriber received for this point (any order; one per seq). */
  sent: readonly { seq: number; ts: number; value: number }[];
  /** Judged instants: the middle of every step that became visible in [from, to). */
  from: number;
  to: number;
  /** How long a held value may lag the device (poll interval plus a busy machine's delay). */
  lagMs: number;
  /** How far a poll's timestamp may be ahead of the step it saw. */
  slackMs: number;
  /** A wrong held value that is right again within this long counts as late, not lost. */
  lateMs: number;
}

export interface HeldSeriesCheck {
  /** Step midpoints judged. */
  checked: number;
  /** Judged instants where the held value was beyond the deadband of every step the device showed in the lag window (or nothing was held yet), for longer than `lateMs`. */
  lost: number;
  /** Such instants in a stretch that was right again within `lateMs`: the change arrived, from a late poll. */
  late: number;
  /** Received values that no step around their timestamp ever held (a value the device never had). */
  wrong: number;
  /** The first few problems, for the report. */
  examples: string[];
}

const EPS = 1e-6;

/** Index of the step visible at time t (-1 before the first). */
export function stepAt(stepTimes: readonly number[], t: number): number {
  let lo = 0;
  let hi = stepTimes.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (stepTimes[mid]! <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export function checkHeldSeries(i: HeldSeriesInput): HeldSeriesCheck {
  const sent = [...i.sent].sort((a, b) => a.seq - b.seq);
  const result: HeldSeriesCheck = { checked: 0, lost: 0, late: 0, wrong: 0, examples: [] };
  const near = (v: number, lo: number, hi: number, tolerance: number): boolean => {
    for (let s = Math.max(0, lo); s <= hi; s++) if (Math.abs(v - i.truth(s)) <= tolerance + EPS * Math.max(1, Math.abs(v))) return true;
    return false;
  };
  for (const r of sent) {
    if (r.ts < i.from || r.ts >= i.to) continue;
    if (!near(r.value, stepAt(i.stepTimes, r.ts - i.slackMs), stepAt(i.stepTimes, r.ts + i.slackMs), 0)) {
      result.wrong++;
      if (result.examples.length < 5) result.examples.push(`sent ${r.value} at ${r.ts} (seq ${r.seq}): the device never held it then`);
    }
  }
  // Sample and hold along the judged instants; `sent` is in seq order, which is poll order.
  let k = -1;
  // The current stretch of wrong instants: when it began and how many it holds.
  let stretch: { from: number; instants: number; example: string } | null = null;
  const close = (t: number) => {
    if (!stretch) return;
    if (t - stretch.from > i.lateMs) {
      result.lost += stretch.instants;
      if (result.examples.length < 5) result.examples.push(`${stretch.example}, for ${stretch.instants} steps`);
    } else result.late += stretch.instants;
    stretch = null;
  };
  let lastT = i.from;
  const firstStep = Math.max(0, stepAt(i.stepTimes, i.from));
  for (let s = firstStep; s < i.stepTimes.length && i.stepTimes[s]! < i.to; s++) {
    if (i.stepTimes[s]! < i.from) continue;
    const next = i.stepTimes[s + 1];
    const t = next === undefined ? i.stepTimes[s]! : (i.stepTimes[s]! + next) / 2;
    if (t >= i.to) break;
    while (k + 1 < sent.length && sent[k + 1]!.ts <= t) k++;
    result.checked++;
    lastT = t;
    const held = k >= 0 ? sent[k]!.value : undefined;
    if (held === undefined || !near(held, stepAt(i.stepTimes, t - i.lagMs), stepAt(i.stepTimes, t + i.slackMs), i.deadband)) {
      stretch ??= { from: t, instants: 0, example: `from step ${s}: held ${held ?? 'nothing'}, the device ${i.truth(s)} (deadband ${i.deadband})` };
      stretch.instants++;
    } else close(t);
  }
  close(lastT);
  return result;
}

/** Sums the checks of many points. */
export function addChecks(checks: readonly HeldSeriesCheck[]): HeldSeriesCheck {
  return checks.reduce<HeldSeriesCheck>(
    (a, c) => ({ checked: a.checked + c.checked, lost: a.lost + c.lost, late: a.late + c.late, wrong: a.wrong + c.wrong, examples: [...a.examples, ...c.examples].slice(0, 5) }),
    { checked: 0, lost: 0, late: 0, wrong: 0, examples: [] },
  );
}
