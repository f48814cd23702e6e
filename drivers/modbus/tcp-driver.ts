import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { ModbusError } from './errors.js';
import { compileReadPlan, type ReadPlan } from './plan.js';
import type { RequestResult } from './poll.js';
import { DeviceStateLog } from '../kit/device-state-log.js';
import { PollLoop } from '../kit/poll-loop.js';
import { PollSchedule } from '../kit/poll-schedule.js';
import { expandPacked, type PackedReadings } from '../../gateway/model/packed-readings.js';
import { allGood, blockOf, compileRequests, PackedAnswer, type CompiledRequest } from './compiled-plan.js';
import { MbapTransport } from './tcp-transport.js';
import { ReadingAssembler } from './readings.js';
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
 * Transport: MBAP on a plain socket (tcp-transport.ts). Requests go out one at a time unless
 * `maxOutstandingRequests` > 1, for devices that serve several transactions at once. Good
 * answers go to the core as packed readings decoded straight from the answer's bytes
 * (compiled-plan.ts); only errors and values that decode bad take the reading-object path.
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
  private readonly assembler: ReadingAssembler;
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
  private readonly compiled: CompiledRequest[];
  private connectedOnce = false;
  private reconnectAttempt = 0;
  private readonly stateLog: DeviceStateLog;

  constructor(
    private readonly config: ModbusTcpDevice,
    private readonly ctx: DriverContext,
    private readonly plan: ReadPlan,
  ) {
    this.assembler = new ReadingAssembler(plan);
    this.compiled = compileRequests(plan, config.registers);
    this.stateLog = new DeviceStateLog(ctx.log, 'modbus device', { host: config.host, port: config.port, unitId: config.unitId });
    this.poller = new PollLoop(ctx.log, 'modbus poll loop', () => this.stateLog.set('down'));
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
      this.emit(this.assembler.allBad(error.code, Date.now()));
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

  /**
   * Every request of the plan, at most `maxOutstandingRequests` at a time. As in poll.ts: an
   * exception or malformed answer fails only its request; after a timeout or connection error
   * the rest are not sent and share that error.
   */
  private async readAll(client: MbapTransport): Promise<RequestResult[]> {
    const requests = this.plan.requests;
    const results = new Array<RequestResult>(requests.length);
    const { unitId, timeoutMs } = this.config;
    let fatal: ModbusError | null = null;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const i = next++;
        const request = requests[i]!;
        if (fatal) {
          results[i] = { request, error: fatal, sent: false };
          continue;
        }
        try {
          const data = await client.read(unitId, request.table, request.address, request.count, timeoutMs);
          results[i] = { request, data, sent: true };
        } catch (err) {
          const error = err as ModbusError;
          results[i] = { request, error, sent: true };
          if (error.kind !== 'exception' && error.kind !== 'response') fatal ??= error;
        }
      }
    };
    const lanes = Math.min(this.config.maxOutstandingRequests, requests.length);
    if (lanes <= 1) await worker();
    else await Promise.all(Array.from({ length: lanes }, worker));
    return results;
  }

  private async pollOnce(ts: number): Promise<void> {
    const client = this.client;
    if (client === null) return;
    this.counters.polls++;
    const results = await this.readAll(client);
    if (this.stopping) return;

    let good = 0;
    let lost: ModbusError | null = null;
    let firstError: ModbusError | null = null;
    for (const r of results) {
      if (r.sent) this.counters.requests++;
      if (r.error === undefined) {
        good++;
        continue;
      }
      firstError ??= r.error;
      if (!r.sent) continue;
      if (r.error.kind === 'exception') this.counters.exceptions++;
      else if (r.error.kind === 'timeout') this.counters.timeouts++;
      else if (r.error.kind === 'connection') this.counters.connectionErrors++;
      if (r.error.kind === 'timeout' || r.error.kind === 'connection') lost = r.error;
    }

    this.emitPoll(results, ts);
    if (good > 0) this.lastGoodTs = ts;
    if (firstError) this.stateLog.recordError(firstError);
    if (lost) {
      this.dropConnection();
    } else {
      this.reconnectAttempt = 0;
    }
    if (good === results.length) this.stateLog.set('ok');
    else this.stateLog.set(good > 0 ? 'degraded' : 'down', firstError ?? undefined);
  }

  /** Good answers as packed readings; errors and values that decode bad as reading objects. */
  private emitPoll(results: RequestResult[], ts: number): void {
    const packed: PackedReadings[] = [];
    const slow: RequestResult[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.data === undefined) {
        slow.push(r);
        continue;
      }
      // readAll stores the transport's answer bytes.
      const data = r.data as Buffer;
      const c = this.compiled[i]!;
      if (allGood(c, data)) {
        this.assembler.markGood(c.points.names);
        packed.push(new PackedAnswer(c, data, ts));
      } else {
        slow.push({ request: r.request, data: blockOf(r.request, data), sent: true });
      }
    }
    const readings = slow.length > 0 ? this.assembler.fromResults(slow, ts) : [];
    if (this.stopping) return;
    if (this.ctx.emitPacked) {
      if (packed.length > 0) this.ctx.emitPacked(packed);
      this.emit(readings);
    } else {
      this.emit(packed.length === 0 ? readings : [...packed.flatMap(expandPacked), ...readings]);
    }
  }

  private emit(readings: DriverReading[]): void {
    if (!this.stopping && readings.length > 0) this.ctx.emit(readings);
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
