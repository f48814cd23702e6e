import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { DeviceError } from '../../driver.js';
import { classifyLossError, classifyOpenError } from '../../transport/serial/errors.js';
import { HotplugStream, type DeviceHandle, type DeviceSink, type HotplugCounters } from '../../transport/serial/hotplug-stream.js';
import type { SerialPortConfig } from '../../transport/serial/schema.js';
import { openSerialLink } from '../../transport/serial/serial-opener.js';
import { ModbusError } from '../errors.js';
import { describeRequest, type WriteRequest } from '../pdu/request.js';
import type { ModbusTable } from '../schema.js';
import { encodeRtuRequest, judgeReply, type ReplyVerdict, type RtuRequest } from './rtu-frame.js';
import { frameEndGapMs, interFrameSilenceMs, wireTimeMs } from './rtu-timing.js';

/**
 * One RS-485 bus: one serial port shared by every unit configured on it, and the scheduler that
 * decides whose request goes out next. An RTU bus carries one transaction at a time (there is
 * no transaction id to match replies by), so requests queue per unit and are served round-robin
 * across the units that have one waiting: a unit with a long plan or a slow reply can delay the
 * others by one transaction per turn, never starve them. Between frames the bus keeps the
 * spec's t3.5 silence (1.75 ms above 19200 baud), measured from the last byte seen either way.
 *
 * A write (`write()`) goes ahead of every queued read, in the next free turn: a command for a
 * barrier or a PLC waits for at most the one transaction already on the wire, never for the
 * polls queued behind it.
 *
 * The port is opened by its configured (stable, by-id) path through HotplugStream, which also
 * notices an unplugged adapter and reopens it when it comes back. While it is closed, requests
 * fail at once with the port's error code (SERIAL_NOT_FOUND, SERIAL_UNPLUGGED, ...), so a poll
 * reports the real cause instead of waiting out a timeout.
 */

export interface BusCounters {
  transactions: number;
  /** Bytes that arrived with no transaction waiting: late replies, line noise. */
  strayBytes: number;
}

export interface RtuBusOptions {
  port: SerialPortConfig;
  log: Logger;
  /** Resolves when a previous bus on this port has released it (a reload reopening it). */
  after?: Promise<void>;
}

/** A request cannot answer with more than this (unit, fc, count, 250 data bytes, CRC). */
const MAX_FRAME_BYTES = 256;

/** A read as the poll loop asks for it. */
export interface RtuReadRequest {
  unitId: number;
  table: ModbusTable;
  address: number;
  count: number;
}

interface Job {
  req: RtuRequest;
  frame: Buffer;
  timeoutMs: number;
  settled: boolean;
  settle(result: { data: Buffer } | { error: ModbusError }): void;
}

interface Active {
  job: Job;
  rx: Buffer;
  timers: NodeJS.Timeout[];
  gapTimer: NodeJS.Timeout | null;
  finish(verdict: ReplyVerdict | { kind: 'error'; error: ModbusError }): void;
}

interface Link {
  write(frame: Buffer): Promise<void>;
}

export class RtuBus {
  readonly counters: BusCounters = { transactions: 0, strayBytes: 0 };
  readonly path: string;
  private readonly silenceMs: number;
  private readonly gapMs: number;
  private readonly stream: HotplugStream;
  private readonly queues = new Map<number, Job[]>();
  /** Units with a queued request, in the order they get their next turn. */
  private readonly ring: number[] = [];
  /** Writes, served before any unit's reads, first come first served. */
  private readonly writes: Job[] = [];
  private link: Link | null = null;
  private active: Active | null = null;
  private running: Promise<void> | null = null;
  private lastActivity = 0;
  private stopped = false;
  private starting: Promise<void> | null = null;

  constructor(private readonly opts: RtuBusOptions) {
    this.path = opts.port.path;
    this.silenceMs = interFrameSilenceMs(opts.port);
    this.gapMs = frameEndGapMs(opts.port);
    this.stream = new HotplugStream({
      path: opts.port.path,
      opener: (path, sink) => this.openLink(path, sink),
      reopen: opts.port.reopen,
      log: opts.log,
      onData: (chunk) => this.onBytes(chunk),
      onClosed: (err) => this.onPortClosed(err),
      // The path watcher reports a vanished link as a bare ENODEV; give every cause the serial
      // codes (SERIAL_UNPLUGGED, SERIAL_NOT_FOUND, ...) a technician and the readings see.
      describe: (err, phase) => {
        const e = phase === 'open' ? classifyOpenError(opts.port.path, err) : classifyLossError(opts.port.path, err);
        return { code: e.code, message: e.message, ts: Date.now() };
      },
    });
  }

  get isOpen(): boolean {
    return this.link !== null;
  }

  get portError(): DeviceError | null {
    return this.stream.lastError;
  }

  get resolvedPath(): string | null {
    return this.stream.resolvedPath;
  }

  /** Opens, reopens, unplugs and open errors of the port, for status. */
  get portCounters(): HotplugCounters {
    return { ...this.stream.counters };
  }

  get timing(): { silenceMs: number; frameEndGapMs: number } {
    return { silenceMs: this.silenceMs, frameEndGapMs: this.gapMs };
  }

  /** Opens the port in the background; resolves once the first open attempt has finished. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      await this.opts.after?.catch(() => undefined);
      if (this.stopped) return;
      this.stream.start();
      await this.stream.settled();
    })();
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const q of [...this.queues.values(), this.writes]) for (const job of q) job.settle({ error: cancelled() });
    this.queues.clear();
    this.writes.length = 0;
    this.ring.length = 0;
    await this.starting;
    await this.running;
    await this.stream.stop();
  }

  /**
   * Read a block from a unit, in its turn; resolves with the answer's data bytes (registers
   * big-endian, bits packed LSB first). Rejects with a ModbusError: a reply fault (kind
   * `response`/`exception`), ETIMEDOUT for silence, the port's code when it is not open, or
   * ECANCELED when `signal` aborts (a transaction already on the wire still runs to its end, so
   * its reply cannot be mistaken for the next unit's).
   */
  async read(req: RtuReadRequest, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
    const { unitId, ...read } = req;
    return this.enqueue({ unitId, pdu: { op: 'read', ...read } }, timeoutMs, signal, false);
  }

  /**
   * Write coils or holding registers of a unit (FC 5, 6, 15, 16) in the next free turn, ahead of
   * every queued read; resolves once the unit has echoed the request exactly. Rejects as read().
   */
  async write(unitId: number, req: WriteRequest, timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.enqueue({ unitId, pdu: req }, timeoutMs, signal, true);
  }

  private enqueue(req: RtuRequest, timeoutMs: number, signal: AbortSignal, urgent: boolean): Promise<Buffer> {
    if (this.stopped || signal.aborted) return Promise.reject(cancelled());
    if (!this.link) return Promise.reject(this.notOpenError(req));
    // Throws EBADREQUEST for a request outside the spec's limits, before it takes a turn.
    const frame = encodeRtuRequest(req);
    return new Promise((resolve, reject) => {
      const onAbort = () => job.settle({ error: cancelled() });
      const job: Job = {
        req,
        frame,
        timeoutMs,
        settled: false,
        settle(result) {
          if (job.settled) return;
          job.settled = true;
          signal.removeEventListener('abort', onAbort);
          if ('error' in result) reject(result.error);
          else resolve(result.data);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (urgent) {
        this.writes.push(job);
      } else {
        let q = this.queues.get(req.unitId);
        if (!q) {
          q = [];
          this.queues.set(req.unitId, q);
          this.ring.push(req.unitId);
        }
        q.push(job);
      }
      this.pump();
    });
  }

  private next(): Job | null {
    while (this.writes.length > 0) {
      const job = this.writes.shift()!;
      if (!job.settled) return job;
    }
    while (this.ring.length > 0) {
      const unit = this.ring.shift()!;
      const q = this.queues.get(unit)!;
      const job = q.shift()!;
      if (q.length > 0) this.ring.push(unit);
      else this.queues.delete(unit);
      if (!job.settled) return job;
    }
    return null;
  }

  private pump(): void {
    if (this.running || this.stopped) return;
    const job = this.next();
    if (!job) return;
    this.running = this.transact(job)
      .catch((err: unknown) => {
        // transact settles its job on every path; reaching here is a bug, never a reason to stall the bus.
        this.opts.log.error({ err }, 'rtu bus transaction failed unexpectedly');
        job.settle({ error: new ModbusError('EMODBUS', String(err), 'other') });
      })
      .finally(() => {
        this.running = null;
        this.pump();
      });
  }

  private async transact(job: Job): Promise<void> {
    await this.keepSilence();
    const link = this.link;
    if (job.settled) return;
    if (this.stopped) return job.settle({ error: cancelled() });
    if (!link) return job.settle({ error: this.notOpenError(job.req) });
    this.counters.transactions++;
    const verdict = await new Promise<ReplyVerdict | { kind: 'error'; error: ModbusError }>((resolve) => {
      const active: Active = {
        job,
        rx: Buffer.alloc(0),
        timers: [],
        gapTimer: null,
        finish: (v) => {
          if (this.active !== active) return;
          this.active = null;
          for (const t of active.timers) clearTimeout(t);
          if (active.gapTimer) clearTimeout(active.gapTimer);
          resolve(v);
        },
      };
      this.active = active;
      link.write(job.frame).then(
        () => {
          this.lastActivity = performance.now();
          if (this.active !== active) return;
          // Silence is judged from when the request has left the wire; once a reply has begun,
          // the frame-end gap decides, bounded by a deadline for a reply that never stops dribbling.
          active.timers.push(
            setTimeout(() => {
              if (active.rx.length === 0) active.finish({ kind: 'error', error: timeoutError(job) });
            }, job.timeoutMs),
            setTimeout(
              () => active.finish(judgeReply(job.req, active.rx, true)),
              job.timeoutMs + wireTimeMs(MAX_FRAME_BYTES, this.opts.port) + this.gapMs,
            ),
          );
        },
        (err: unknown) => active.finish({ kind: 'error', error: linkError(this.path, err) }),
      );
    });
    if (verdict.kind === 'data') job.settle({ data: verdict.data });
    else if (verdict.kind === 'error') job.settle({ error: verdict.error });
  }

  private onBytes(chunk: Buffer): void {
    this.lastActivity = performance.now();
    const active = this.active;
    if (!active) {
      this.counters.strayBytes += chunk.length;
      return;
    }
    active.rx = Buffer.concat([active.rx, chunk]);
    const verdict = judgeReply(active.job.req, active.rx, active.rx.length >= MAX_FRAME_BYTES);
    if (verdict.kind !== 'incomplete') {
      // Bytes past the judged frame (noise, a second reply) are stray: the next request waits
      // for silence after them anyway.
      this.counters.strayBytes += active.rx.length - verdict.frameLength;
      active.finish(verdict);
      return;
    }
    if (active.gapTimer) clearTimeout(active.gapTimer);
    active.gapTimer = setTimeout(() => active.finish(judgeReply(active.job.req, active.rx, true)), this.gapMs);
  }

  private onPortClosed(err: DeviceError): void {
    this.link = null;
    this.active?.finish({ kind: 'error', error: new ModbusError(err.code, err.message, 'connection') });
  }

  /** t3.5 since the last byte either way. Loops because a timer can fire a fraction of a ms early. */
  private async keepSilence(): Promise<void> {
    for (;;) {
      const left = this.silenceMs - (performance.now() - this.lastActivity);
      if (left <= 0) return;
      await new Promise((r) => setTimeout(r, Math.ceil(left)));
    }
  }

  private notOpenError(req: RtuRequest): ModbusError {
    const e = this.stream.lastError;
    const why = e ? e.message : `serial port ${this.path} is not open yet`;
    return new ModbusError(e?.code ?? 'ENOTCONN', `${describeRequest(req.pdu, req.unitId)}: ${why}`, 'connection');
  }

  private async openLink(path: string, sink: DeviceSink): Promise<DeviceHandle> {
    // write() waits for tcdrain, so the response timeout does not include the request's own
    // time on the wire.
    const link = await openSerialLink(path, this.opts.port, sink);
    this.link = link;
    return {
      close: async () => {
        if (this.link === link) this.link = null;
        await link.close();
      },
    };
  }
}

function cancelled(): ModbusError {
  return new ModbusError('ECANCELED', 'driver stopping', 'other');
}

function timeoutError(job: Job): ModbusError {
  const { req } = job;
  return new ModbusError('ETIMEDOUT', `${describeRequest(req.pdu, req.unitId)}: no reply within ${job.timeoutMs} ms`, 'timeout');
}

function linkError(path: string, err: unknown): ModbusError {
  const e = classifyLossError(path, err);
  return new ModbusError(e.code, `write to ${path} failed: ${e.message}`, 'connection');
}
