import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { ModbusError } from './errors.js';
import type { WriteRequest } from './pdu/request.js';
import { ModbusPointWriter } from './writes.js';
import type { WriteRequest as PointRequest, WriteResult } from '../writable-point.js';
import { compileReadPlan, type ReadPlan } from './plan.js';
import { readPlan, tallyPoll } from './poll.js';
import { PollEmitter } from './poll-emitter.js';
import { DeviceStateLog } from '../kit/device-state-log.js';
import { PollLoop } from '../kit/poll-loop.js';
import { PollSchedule } from '../kit/poll-schedule.js';
import { MbapTransport } from './tcp-transport.js';
import { retryDelayMs } from '../kit/backoff.js';
import type { ModbusTcpDevice } from './schema.js';

/**
 * Modbus TCP driver: one instance per configured device, each with its own socket and poll loop,
 * so a slow or dead device never delays another.
 *
 * Poll loop: ticks every `intervalMs` on a fixed schedule; polls never overlap. A poll that runs
 * past the next tick skips the missed ticks (counted as `overruns`) instead of queueing them.
 * Every poll emits one array: a good reading per readable point, `ts` = poll start.
 *
 * Transport: MBAP on a plain socket (tcp-transport.ts). The read policy is poll.ts's (one
 * request at a time unless `maxOutstandingRequests` > 1); good answers go to the core as packed
 * readings (poll-emitter.ts). `write()` sends a command between two requests of a poll.
 *
 * Failure policy (what a central system wants): a point that cannot be read gets ONE reading
 * `{ value: null, quality: 'bad', attrs: { error: <code> } }` when it goes bad, then silence
 * until it reads good again (see readings.ts); the ongoing condition is in `status()`:
 *   - `ok`: every request of the last poll answered;
 *   - `degraded`: some requests answered, others returned a Modbus exception (their points bad);
 *   - `down`: no connection, or nothing answered.
 * A timeout or socket error drops the connection (a hung device or half-open socket is only
 * cured by a fresh one; it also discards any late answer) and reconnects with jittered
 * exponential backoff (200 ms doubling to 30 s, reset by a clean poll).
 *
 * Counters: polls, requests, timeouts, exceptions, connectionErrors, connectFailures,
 * reconnects (successful connects after the first), overruns.
 */

const RECONNECT = { startingDelay: 200, maxDelay: 30_000 };

export const createModbusTcpDriver: DriverFactory<ModbusTcpDevice> = (config, ctx) =>
  new ModbusTcpDriver(config, ctx, compileReadPlan(config.registers, config));

type Counters = Record<
  'polls' | 'requests' | 'timeouts' | 'exceptions' | 'connectionErrors' | 'connectFailures' | 'reconnects' | 'overruns',
  number
>;

export class ModbusTcpDriver implements Driver {
  private readonly emitter: PollEmitter;
  private readonly poller: PollLoop;
  private readonly counters: Counters = {
    polls: 0,
    requests: 0,
    timeouts: 0,
    exceptions: 0,
    connectionErrors: 0,
    connectFailures: 0,
    reconnects: 0,
    overruns: 0,
  };
  private lastGoodTs: number | null = null;
  private client: MbapTransport | null = null;
  /** Answers with a transaction id nobody asked for, on connections already closed. */
  private strayFramesBefore = 0;
  private connectedOnce = false;
  private reconnectAttempt = 0;
  private readonly stateLog: DeviceStateLog;
  private readonly writer: ModbusPointWriter;

  constructor(
    private readonly config: ModbusTcpDevice,
    private readonly ctx: DriverContext,
    private readonly plan: ReadPlan,
  ) {
    this.emitter = new PollEmitter(plan, config.registers, ctx, () => this.stopping);
    this.stateLog = new DeviceStateLog(ctx, 'modbus device', { host: config.host, port: config.port, unitId: config.unitId });
    this.poller = new PollLoop(ctx.log, 'modbus poll loop', () => this.stateLog.set('down'));
    this.writer = new ModbusPointWriter(config.writes, `modbus device ${config.host}:${config.port} unit ${config.unitId}`);
  }

  /** A declared writable point (writes.ts): converted, written, pulsed and read back on this connection. */
  write(point: string, request: PointRequest): Promise<WriteResult> {
    return this.writer.write(
      {
        writePdu: (req) => this.writePdu(req),
        readPdu: (table, address, count) => {
          const client = this.client;
          if (client === null) return Promise.reject(new ModbusError('ENOTCONN', `read-back from ${this.config.host}:${this.config.port}: not connected`, 'connection'));
          return client.read(this.config.unitId, table, address, count, this.config.timeoutMs);
        },
      },
      point,
      request,
    );
  }

  async start(): Promise<void> {
    this.poller.start(() => this.run());
  }

  async stop(): Promise<void> {
    this.poller.halt();
    // A request in flight would otherwise hold the loop until its timeout.
    this.dropConnection();
    await this.poller.stop();
    this.stateLog.set('stopped');
  }

  status(): DeviceStatus {
    return this.stateLog.status(this.lastGoodTs, this.counters, {
      host: this.config.host,
      port: this.config.port,
      unitId: this.config.unitId,
      connected: this.client !== null,
      requestsPerPoll: this.plan.requests.length,
      strayFrames: this.strayFramesBefore + (this.client?.strayFrames ?? 0),
      reconnectAttempt: this.reconnectAttempt,
    });
  }

  /**
   * Writes coils or holding registers of this device (FC 5, 6, 15, 16) on the poll's connection,
   * ahead of the poll's remaining requests and never overlapping one. Rejects with a ModbusError:
   * ENOTCONN while there is no connection (nothing is queued for later: a command must not fire
   * long after it was given), the device's exception, EBADRESPONSE for a wrong echo, ETIMEDOUT.
   */
  writePdu(req: WriteRequest): Promise<void> {
    const client = this.client;
    if (client === null || this.stopping) {
      return Promise.reject(new ModbusError('ENOTCONN', `write to ${this.config.host}:${this.config.port}: not connected`, 'connection'));
    }
    return client.write(this.config.unitId, req, this.config.timeoutMs);
  }

  private get stopping(): boolean {
    return this.poller.stopping;
  }

  private async run(): Promise<void> {
    const schedule = new PollSchedule(this.config.intervalMs);
    while (!this.stopping) {
      if (this.client === null) {
        if (!(await this.connect())) {
          await this.sleep(retryDelayMs(this.reconnectAttempt++, RECONNECT));
          continue;
        }
        schedule.restart();
      }
      await this.pollOnce(Date.now());
      const { waitMs, skipped } = schedule.afterPoll();
      this.counters.overruns += skipped;
      await this.sleep(waitMs);
    }
  }

  private async connect(): Promise<boolean> {
    const { host, port, timeoutMs } = this.config;
    let client: MbapTransport;
    try {
      client = await MbapTransport.connect(host, port, timeoutMs, this.poller.signal);
    } catch (err) {
      if (this.stopping) return false;
      const error = err as ModbusError;
      this.counters.connectFailures++;
      this.stateLog.recordError(error);
      this.emitter.emitAllBad(error.code, Date.now());
      this.stateLog.set('down', error);
      return false;
    }
    if (this.stopping) {
      client.destroy();
      return false;
    }
    client.onLost((err) => this.ctx.log.debug({ err }, 'modbus connection lost'));
    this.client = client;
    if (this.connectedOnce) this.counters.reconnects++;
    this.connectedOnce = true;
    this.ctx.log.debug({ host, port }, 'modbus connected');
    return true;
  }

  private async pollOnce(ts: number): Promise<void> {
    const client = this.client;
    if (client === null) return;
    this.counters.polls++;
    const { unitId, timeoutMs, maxOutstandingRequests } = this.config;
    const results = await readPlan(this.plan, (r) => client.read(unitId, r.table, r.address, r.count, timeoutMs), maxOutstandingRequests);
    if (this.stopping) return;

    const t = tallyPoll(results);
    this.counters.requests += t.sent;
    for (const e of t.sentErrors) {
      if (e.kind === 'exception') this.counters.exceptions++;
      else if (e.kind === 'timeout') this.counters.timeouts++;
      else if (e.kind === 'connection') this.counters.connectionErrors++;
    }
    this.emitter.emitPoll(results, ts);
    if (t.good > 0) this.lastGoodTs = ts;
    if (t.firstError) this.stateLog.recordError(t.firstError);
    if (t.lost) {
      this.dropConnection();
    } else {
      this.reconnectAttempt = 0;
    }
    this.stateLog.set(t.state, t.state === 'ok' ? undefined : (t.firstError ?? undefined));
  }

  private dropConnection(): void {
    if (this.client) {
      this.strayFramesBefore += this.client.strayFrames;
      this.client.destroy();
    }
    this.client = null;
  }

  private sleep(ms: number): Promise<void> {
    return this.poller.sleep(ms);
  }
}
