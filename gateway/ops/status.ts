import { request } from '../control/client.js';
import type { HealthReport } from '../health.js';
import { resolveSocket, type SocketChoice } from './socket-path.js';
import { CLEAR_SCREEN, formatBytes, formatDuration, jsonForTerminal, progressBar, styleFor, table, terminalSafe, type Style } from './terminal.js';

/**
 * `edge-gateway status`: the daemon's health report as a technician reads it — broker link, queue
 * and drain, drops, clock, memory, then one row per device with only the counters that signal
 * trouble. `--json` prints the report untouched; `--watch` redraws it every second.
 */

/** What the control socket answers while the daemon is still opening the outbox. */
interface Starting {
  starting: true;
}

export type StatusAnswer = HealthReport | Starting;

/**
 * Counter names that count trouble rather than activity (polls, scans, lines...). Drivers pick
 * their own names, so this matches by word instead of listing every driver's counters.
 */
const TROUBLE = /error|timeout|exception|fail|crc|checksum|overrun|overlong|invalid|unparsed|bad|lost|unplug|reconnect|reopen|glitch|fault|empty|drop|refus|reject|stall/i;

export function troubleCounters(counters: Record<string, number>): [string, number][] {
  return Object.entries(counters).filter(([name, n]) => n > 0 && TROUBLE.test(name));
}

/**
 * Backlog seen at its largest while watching, so the bar shows how much of it has drained. Only
 * passed when drawing to a terminal: a log file gains nothing from a bar.
 */
export interface DrainTracker {
  peak: number;
}

export function renderStatus(answer: StatusAnswer, style: Style, drain?: DrainTracker): string {
  if ('starting' in answer) return `gateway is starting (opening the outbox and starting devices); try again in a moment\n`;
  const h = answer;
  const out: string[] = [];
  const now = h.ts;
  const label = (s: string) => style.paint('bold', s.padEnd(8));
  const bad = (s: string) => style.paint('red', s);
  const warn = (s: string) => style.paint('yellow', s);
  const good = (s: string) => style.paint('green', s);

  out.push(`${label('gateway')} ${h.gateway}  up ${formatDuration(h.uptimeS * 1000)}  clock ${h.clock.synced ? good('synchronised') : warn('NOT synchronised (readings flagged clock=unsynced)')}`);

  const b = h.broker;
  const link = b.connected ? good('connected') : bad('NOT connected');
  const lastError = b.lastError ? `  last error: ${b.connected ? b.lastError : bad(b.lastError)}` : '';
  // Health from an older daemon (status --json saved, or mid-upgrade) may lack the newer fields.
  const next = !b.connected && b.nextAttemptAtMs != null ? `  next attempt in ${formatDuration(Math.max(0, b.nextAttemptAtMs - now))}` : '';
  out.push(`${label('broker')} ${b.url ?? '(none yet)'}  ${link}${next}  connects ${b.connects}, in flight ${b.inflightBatches} batch(es)${lastError}`);
  const inbound = b.inbound;
  if (inbound) {
    const d = inbound.dropped;
    const dropped = d.unsolicited + d.tooLarge + d.overLimit;
    if (dropped > 0 || inbound.violations > 0 || inbound.throttledS > 0) {
      const parts = [`${dropped} message(s) dropped (unsolicited ${d.unsolicited}, too large ${d.tooLarge}, over limit ${d.overLimit})`];
      if (inbound.violations > 0) parts.push(`${inbound.violations} connection(s) closed for breaking the protocol, last: ${inbound.lastViolation ?? '?'}`);
      if (inbound.throttledS > 0) parts.push(`reading paused ${formatDuration(inbound.throttledS * 1000)} for sending too fast`);
      out.push(`${label('inbound')} ${warn(parts.join('; '))}`);
    }
  }

  const o = h.outbox;
  const oldest = o.oldestPendingMs === null ? '' : `  oldest ${formatDuration(o.oldestPendingMs)}`;
  const drainText =
    o.pendingReadings === 0
      ? ''
      : o.drainEtaS !== null
        ? `  draining ${o.drainRatePerS}/s, ETA ${formatDuration(o.drainEtaS * 1000)}`
        : `  ${warn('not draining')}`;
  const depth = `${o.pendingReadings} reading(s), ${formatBytes(o.pendingBytes)}, ${o.pendingEvents} event(s)`;
  out.push(`${label('queue')} ${o.pendingReadings > 0 && !b.connected ? warn(depth) : depth}${oldest}${drainText}`);

  if (drain) {
    if (o.pendingReadings === 0) drain.peak = 0;
    drain.peak = Math.max(drain.peak, o.pendingReadings);
    if (o.pendingReadings > 0 && o.drainRatePerS > 0 && drain.peak > 0) {
      const left = o.pendingReadings;
      out.push(`${' '.repeat(9)}${progressBar(1 - left / drain.peak)}  ${left} left  ${o.drainRatePerS}/s  ETA ${formatDuration((o.drainEtaS ?? 0) * 1000)}`);
    }
  }

  const ranges = o.dropped.ranges.map(([a, z]) => (a === z ? `${a}` : `${a}-${z}`));
  const drops = o.dropped.readings > 0 ? warn(`${o.dropped.readings} reading(s) dropped by retention`) + (ranges.length ? ` (seq ${ranges.join(', ')})` : '') : '0 dropped';
  const refused = o.refused > 0 ? bad(`${o.refused} refused (outbox full: disk or maxFileBytes)`) : '0 refused';
  // Seqs skipped after an unclean stop (power cut): declared, so a central gap there is explained.
  const skipped = (o.skipped?.ranges ?? []).map(([a, z]) => (a === z ? `${a}` : `${a}-${z}`));
  const skips = skipped.length > 0 ? `, ${warn(`seq ${skipped.join(', ')} skipped after an unclean stop`)}` : '';
  out.push(`${label('drops')} ${drops}, ${refused}${skips}`);
  out.push(`${label('process')} RSS ${formatBytes(h.process.rssBytes)}, heap ${formatBytes(h.process.heapUsedBytes)}  outbox ${o.id} next seq ${o.nextSeq}`);
  out.push('');

  const ids = Object.keys(h.devices).sort();
  if (ids.length === 0) {
    out.push('no devices running');
  } else {
    const rows = ids.map((id) => {
      const d = h.devices[id]!;
      const state = d.state === 'ok' ? good(d.state) : d.state === 'down' ? bad(d.state) : warn(d.state);
      const age = d.lastGoodTs === null ? 'never' : `${formatDuration(Math.max(0, now - d.lastGoodTs))} ago`;
      const trouble = troubleCounters(d.counters)
        .map(([k, n]) => `${k}=${n}`)
        .join(' ');
      return [id, d.type, state, age, trouble || '-'];
    });
    const lines = table(['DEVICE', 'TYPE', 'STATE', 'LAST GOOD', 'ERRORS'], rows, style).split('\n');
    out.push(lines[0]!);
    ids.forEach((id, i) => {
      out.push(lines[i + 1]!);
      for (const note of deviceNotes(h.devices[id]!, now)) out.push(`  ${style.paint('dim', note.label)} ${note.text}`);
    });
  }
  return `${out.join('\n')}\n`;
}

/**
 * What is true now, under each device row: why it is in its state (the driver's own reason, else
 * the error that put it there) and any last error with its age, so a blip that never became the
 * state reads as the past it is.
 */
export function deviceNotes(d: HealthReport['devices'][string], now: number): Array<{ label: string; text: string }> {
  const notes: Array<{ label: string; text: string }> = [];
  const ago = (ts: number) => `${formatDuration(Math.max(0, now - ts))} ago`;
  const since = d.stateSince !== undefined ? ` (since ${ago(d.stateSince)})` : '';
  const errorText = d.lastError ? `${d.lastError.code}: ${truncate(d.lastError.message, 160)}` : '';
  if (d.stateReason !== undefined) notes.push({ label: 'why       ', text: `${truncate(d.stateReason, 240)}${since}` });
  else if (d.state !== 'ok' && d.lastError) {
    notes.push({ label: 'why       ', text: `${errorText} (${ago(d.lastError.ts)})` });
    return notes;
  }
  if (d.lastError) notes.push({ label: 'last error', text: `${ago(d.lastError.ts)}: ${errorText}` });
  return notes;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export interface StatusOptions extends SocketChoice {
  json?: boolean;
  watch?: boolean;
}

export async function runStatus(opts: StatusOptions, signal: AbortSignal): Promise<number> {
  const socket = resolveSocket(opts);
  const style = styleFor(process.stdout);
  if (!opts.watch) {
    const answer = await request<StatusAnswer>(socket, { cmd: 'status' }, 5000);
    // Device and network text (reasons, errors, names) is escaped here, at the edge, never raw.
    process.stdout.write(opts.json ? `${jsonForTerminal(answer, 2)}\n` : renderStatus(terminalSafe(answer), style));
    return 0;
  }
  const drain: DrainTracker = { peak: 0 };
  const tty = process.stdout.isTTY === true;
  while (!signal.aborted) {
    const answer = await request<StatusAnswer>(socket, { cmd: 'status' }, 5000);
    if (opts.json) process.stdout.write(`${jsonForTerminal(answer)}\n`);
    else process.stdout.write(`${tty ? CLEAR_SCREEN : ''}${renderStatus(terminalSafe(answer), style, tty ? drain : undefined)}${tty ? style.paint('dim', '\n(refreshing every second; Ctrl-C to stop)\n') : '\n'}`);
    await sleep(1000, signal);
  }
  return 0;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
