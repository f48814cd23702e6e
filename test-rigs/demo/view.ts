import { RangeSet } from '../subscriber/range-set.js';
import { parseBatch, parseStatus, type LayoutLog } from '../subscriber/payload.js';

/**
 * What the demo shows: the view from the central side of the broker. Everything on screen comes
 * from MQTT messages (telemetry, events, health, status), not from inside the gateway.
 */
interface DeviceRow {
  readings: number;
  lastTs: number;
  quality: string;
  values: Map<string, string>;
  state?: string;
  lastError?: string;
}

/** One reading as it arrived, for the "latest readings" lines. */
export interface ShownReading {
  seq: number;
  device: string;
  point: string;
  value: unknown;
  unit?: string;
  quality: string;
  kind: string;
}

/** `seq=1234 signal-main-5th temperature = 22.50 degC` (plus the quality when it is not good). */
export function formatReading(r: ShownReading): string {
  const v = typeof r.value === 'number' && !Number.isInteger(r.value) ? r.value.toFixed(2) : JSON.stringify(r.value);
  const quality = r.quality === 'good' ? '' : ` (${r.quality})`;
  return `seq=${r.seq} ${r.device} ${r.point} = ${v}${r.unit ? ` ${r.unit}` : ''}${quality}${r.kind === 'events' ? ' [event]' : ''}`;
}

/**
 * The newest readings, first each with a device and a point not shown yet, then one per
 * device+point, so a few lines show the variety that flows rather than the last point of each poll.
 * `avoidPoints` (the points shown last time) makes successive lines rotate through the points.
 */
export function latestDistinct(recent: readonly ShownReading[], n: number, avoidPoints: ReadonlySet<string> = new Set()): ShownReading[] {
  const picked: ShownReading[] = [];
  const devices = new Set<string>();
  const points = new Set<string>(avoidPoints);
  const pairs = new Set<string>();
  for (const fresh of [true, false]) {
    for (let i = recent.length - 1; i >= 0 && picked.length < n; i--) {
      const r = recent[i]!;
      const pair = `${r.device}/${r.point}`;
      if (pairs.has(pair) || (fresh && (devices.has(r.device) || points.has(r.point)))) continue;
      picked.push(r);
      devices.add(r.device);
      points.add(r.point);
      pairs.add(pair);
    }
  }
  return picked.sort((a, b) => a.seq - b.seq);
}

interface Health {
  outbox: { pendingReadings: number; oldestPendingMs: number | null; dropped: { readings: number }; nextSeq: number };
  broker: { connected: boolean };
  devices: Record<string, { state: string; lastError: { code: string } | null }>;
  process: { rssBytes: number };
}

const tty = process.stdout.isTTY === true;
const c = (code: string, s: string) => (tty ? `\u001b[${code}m${s}\u001b[0m` : s);

export class DemoView {
  private readonly seqs = new RangeSet();
  private duplicates = 0;
  private received = 0;
  private batches = 0;
  /** Telemetry and events payload bytes as they came off the wire (compressed or not). */
  private wireBytes = 0;
  /** v2 layouts seen so far (a batch may refer to one an earlier batch carried). */
  private readonly layouts: LayoutLog = new Map();
  private lastMalformed = '';
  private readonly devices = new Map<string, DeviceRow>();
  private health: Health | null = null;
  private status = '?';
  private readonly rate: number[] = [];
  private lastCount = 0;
  private notes: string[] = [];
  private malformed = 0;
  /** The last readings received, newest last; bounded. */
  private readonly recent: ShownReading[] = [];
  private shownUpTo = -1;
  private shownPoints = new Set<string>();

  constructor(private readonly info: { gatewayId: string; broker: string; configDir: string }) {}

  onMessage(topic: string, payload: Buffer): void {
    const kind = topic.slice(topic.lastIndexOf('/') + 1);
    try {
      if (kind === 'status') {
        // Status v1 is JSON ({ state, reason, ... }); older gateways sent the bare word.
        const parsed = parseStatus(payload);
        this.status = parsed.ok ? parsed.value.state : payload.toString().slice(0, 40);
      }
      else if (kind === 'health') this.health = JSON.parse(payload.toString()) as Health;
      else if (kind === 'telemetry' || kind === 'events') {
        // The reference parser, as a central system would use it: v1 or v2, plain or zstd.
        const parsed = parseBatch(payload, this.info.gatewayId, this.layouts);
        if (!parsed.ok) throw new Error(parsed.reason);
        this.wireBytes += payload.length;
        this.onBatch(parsed.value, kind);
      }
    } catch (err) {
      this.malformed++;
      this.lastMalformed = `${topic}: ${(err as Error).message}`.slice(0, 200);
    }
  }

  private onBatch(batch: { readings: readonly { seq: number; device: string; point: string; value?: unknown; unit?: string; quality: string; ts: number }[] }, kind: string): void {
    this.batches++;
    for (const r of batch.readings) {
      this.received++;
      this.recent.push({ seq: r.seq, device: r.device, point: r.point, value: r.value, ...(r.unit ? { unit: r.unit } : {}), quality: r.quality, kind });
      if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
      this.duplicates += this.seqs.add(r.seq);
      let row = this.devices.get(r.device);
      if (!row) this.devices.set(r.device, (row = { readings: 0, lastTs: 0, quality: '', values: new Map() }));
      row.readings++;
      row.lastTs = r.ts;
      row.quality = r.quality;
      const v = typeof r.value === 'number' && !Number.isInteger(r.value) ? r.value.toFixed(2) : String(r.value);
      row.values.set(r.point, r.unit ? `${v} ${r.unit}` : v);
    }
  }

  note(text: string): void {
    this.notes.push(`${new Date().toISOString().slice(11, 19)} ${text}`);
  }

  private gaps(): number {
    const min = this.seqs.min;
    const max = this.seqs.max;
    if (min === null || max === null) return 0;
    return this.seqs.missingIn(min, max).reduce((n, [a, b]) => n + (b - a + 1), 0);
  }

  render(): void {
    this.rate.push(this.received - this.lastCount);
    this.lastCount = this.received;
    if (this.rate.length > 5) this.rate.shift();
    const perS = this.rate.reduce((a, b) => a + b, 0) / this.rate.length;
    const h = this.health;
    if (!tty) {
      process.stdout.write(
        `[demo] status=${this.status} received=${this.received} rate=${perS.toFixed(0)}/s seq=${this.seqs.min ?? '-'}..${this.seqs.max ?? '-'} ` +
          `gaps=${this.gaps()} dup=${this.duplicates} queue=${h?.outbox.pendingReadings ?? '?'} devices=${[...this.devices.keys()].length} wire=${this.bytesPerReading()}\n`,
      );
      // A few of the readings that arrived since the last line, as a central system receives them.
      const fresh = this.recent.filter((r) => r.seq > this.shownUpTo);
      const shown = latestDistinct(fresh, 3, this.shownPoints);
      for (const r of shown) process.stdout.write(`[demo]   reading ${formatReading(r)}\n`);
      if (shown.length > 0) this.shownPoints = new Set(shown.map((r) => r.point));
      if (this.seqs.max !== null) this.shownUpTo = Math.max(this.shownUpTo, this.seqs.max);
      for (const n of this.notes.splice(0)) process.stdout.write(`[demo] ${n}\n`);
      return;
    }
    const lines: string[] = [];
    lines.push(c('1', `edge-gateway demo — gateway ${this.info.gatewayId} → ${this.info.broker}`) + `   (config: ${this.info.configDir}; Ctrl-C to stop)`);
    lines.push('');
    const statusText = this.status === 'online' ? c('32', 'online') : c('31', this.status);
    lines.push(
      `gateway ${statusText}   received ${c('1', String(this.received))} readings in ${this.batches} batches   ${c('1', perS.toFixed(0))} readings/s   ` +
        `seq ${this.seqs.min ?? '-'}..${this.seqs.max ?? '-'}   gaps ${this.gaps() === 0 ? c('32', '0') : c('31', String(this.gaps()))}   duplicates ${this.duplicates}   on the wire ${this.bytesPerReading()}`,
    );
    if (h) {
      const age = h.outbox.oldestPendingMs === null ? '-' : `${(h.outbox.oldestPendingMs / 1000).toFixed(1)} s`;
      lines.push(
        `outbox queue ${h.outbox.pendingReadings} (oldest ${age})   dropped ${h.outbox.dropped.readings}   broker link ${h.broker.connected ? c('32', 'up') : c('31', 'down')}   gateway RSS ${(h.process.rssBytes / 1e6).toFixed(0)} MB`,
      );
    } else lines.push('outbox: waiting for the first health message…');
    lines.push('');
    lines.push(c('4', `${'device'.padEnd(18)}${'state'.padEnd(10)}${'readings'.padStart(9)}  ${'age'.padStart(6)}  last values`));
    const names = new Set([...this.devices.keys(), ...Object.keys(h?.devices ?? {})]);
    for (const name of [...names].sort()) {
      const row = this.devices.get(name);
      const state = h?.devices[name]?.state ?? (name.startsWith('_') ? 'gateway' : '?');
      const st = state === 'ok' ? c('32', state.padEnd(10)) : c('33', state.padEnd(10));
      const age = row ? `${((Date.now() - row.lastTs) / 1000).toFixed(1)}s` : '-';
      const values = row ? [...row.values].map(([k, v]) => `${k}=${v}`).join('  ') : '';
      lines.push(`${name.padEnd(18)}${st}${String(row?.readings ?? 0).padStart(9)}  ${age.padStart(6)}  ${values.slice(0, 90)}`);
    }
    lines.push('');
    lines.push(c('4', `${'seq'.padStart(8)}  ${'device'.padEnd(18)}${'point'.padEnd(14)}value       latest readings, as they arrive`));
    const latest = latestDistinct(this.recent, 8, this.shownPoints);
    this.shownPoints = new Set(latest.slice(0, 3).map((r) => r.point));
    if (latest.length === 0) lines.push('waiting for the first readings…');
    for (const r of latest) {
      const [, value] = formatReading(r).split(' = ');
      lines.push(`${String(r.seq).padStart(8)}  ${r.device.padEnd(18)}${r.point.padEnd(14)}${value}`);
    }
    if (this.notes.length > 0) {
      lines.push('');
      for (const n of this.notes.slice(-4)) lines.push(c('36', n));
    }
    process.stdout.write(`\u001b[2J\u001b[H${lines.join('\n')}\n`);
  }

  /** Payload bytes per reading received so far (the MQTT and TCP headers not counted). */
  private bytesPerReading(): string {
    return this.received === 0 ? '-' : `${(this.wireBytes / this.received).toFixed(1)} B/reading`;
  }

  /** Final verdict: every sequence number from the first to the last arrived. */
  summary(exit: { code: number | null; signal: string | null }): boolean {
    const gaps = this.gaps();
    const ok = this.received > 0 && gaps === 0 && this.malformed === 0;
    process.stdout.write(
      `\n[demo] gateway exited (${exit.code ?? exit.signal}); received ${this.received} readings, seq ${this.seqs.min ?? '-'}..${this.seqs.max ?? '-'}, ` +
        `gaps ${gaps}, duplicates ${this.duplicates}, malformed ${this.malformed}, ${this.bytesPerReading()} on the wire → ${ok ? 'OK: nothing lost' : 'PROBLEM'}\n`,
    );
    if (this.lastMalformed) process.stdout.write(`[demo] last malformed message: ${this.lastMalformed}\n`);
    return ok;
  }
}
