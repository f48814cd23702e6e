import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { RateLimitedLog } from '../kit/rate-limited-log.js';
import { sharedRtuBuses, type BusLease, type RtuBusRegistry } from './bus/bus-registry.js';
import { counterFor, type RtuFrameCounter } from './bus/rtu-frame.js';
import { UnitBreaker } from './bus/unit-breaker.js';
import { ModbusError } from './errors.js';
import type { WriteRequest } from './pdu/request.js';
import { ModbusPointWriter } from './writes.js';
import type { WriteRequest as PointRequest, WriteResult } from '../writable-point.js';
import { compileReadPlan, type ReadPlan, type ReadRequest } from './plan.js';
import { readPlan, tallyPoll } from './poll.js';
import { PollEmitter } from './poll-emitter.js';
import { DeviceStateLog } from '../kit/device-state-log.js';
import { PollLoop } from '../kit/poll-loop.js';
import { PollSchedule } from '../kit/poll-schedule.js';
import type { ModbusRtuDevice } from './schema.js';

/**
 * Modbus RTU driver: one instance per configured unit. Units naming the same serial port share
 * one bus (bus/bus-registry.ts), whose scheduler interleaves their requests fairly; this driver
 * keeps its unit's poll schedule, circuit breaker, counters and readings. Register map, plan,
 * decoding, the read policy and the bad-quality policy are the Modbus TCP driver's (plan,
 * compiled-plan, poll, poll-emitter, readings). `write()` sends a command in the bus's next turn.
 *
 * Poll loop: ticks every `intervalMs`; polls never overlap; a poll that runs past the next tick
 * (the bus was busy with other units) skips the missed ticks, counted as `overruns`.
 *
 * State: `ok` every request of the last poll answered; `degraded` some did, some faulted
 * (exception, CRC, short or foreign frame); `down` nothing answered, the port is not open, or
 * the breaker is open (detail.breaker says which: closed / open / half-open).
 *
 * Counters: polls, requests, timeouts, exceptions, crcErrors, shortFrames, wrongUnit,
 * badFrames, portErrors (polls with the port closed), skippedPolls (breaker open), probes,
 * breakerOpens, overruns. Reply faults are logged at most once per 10 s per code.
 */

export const createModbusRtuDriver: DriverFactory<ModbusRtuDevice> = (config, ctx) =>
  new ModbusRtuDriver(config, ctx, compileReadPlan(config.registers, config));

type CounterName =
  | 'polls'
  | 'requests'
  | 'portErrors'
  | 'skippedPolls'
  | 'probes'
  | 'breakerOpens'
  | 'overruns'
  | RtuFrameCounter;

export class ModbusRtuDriver implements Driver {
  private readonly emitter: PollEmitter;
  private readonly poller: PollLoop;
  private readonly breaker: UnitBreaker;
  private readonly faultLog: RateLimitedLog;
  private readonly counters: Record<CounterName, number> = {
    polls: 0,
    requests: 0,
    timeouts: 0,
    exceptions: 0,
    crcErrors: 0,
    shortFrames: 0,
    wrongUnit: 0,
    badFrames: 0,
    portErrors: 0,
    skippedPolls: 0,
    probes: 0,
    breakerOpens: 0,
    overruns: 0,
  };
  private lastGoodTs: number | null = null;
  private lease: BusLease | null = null;
  private starting: Promise<void> | null = null;
  private readonly stateLog: DeviceStateLog;

  private readonly writer: ModbusPointWriter;

  constructor(
    private readonly config: ModbusRtuDevice,
    private readonly ctx: DriverContext,
    private readonly plan: ReadPlan,
    private readonly buses: RtuBusRegistry = sharedRtuBuses,
  ) {
    this.emitter = new PollEmitter(plan, config.registers, ctx, () => this.stopping);
    this.stateLog = new DeviceStateLog(ctx, 'modbus rtu unit', { port: config.port.path, unitId: config.unitId });
    this.writer = new ModbusPointWriter(config.writes, `modbus unit ${config.unitId} on ${config.port.path}`);
    this.breaker = new UnitBreaker({
      threshold: config.breaker.failureThreshold,
      minBackoffMs: config.breaker.minBackoffMs,
      maxBackoffMs: config.breaker.maxBackoffMs,
    });
    this.faultLog = new RateLimitedLog(ctx.log);
    this.poller = new PollLoop(ctx.log, 'modbus rtu poll loop', () => this.stateLog.set('down'));
  }

  /**
   * Joins (or opens) the bus and starts polling. Resolves even if the port is absent (that is
   * reported in status and retried); rejects only for a config conflict with another device on
   * the same port, which no retry can cure.
   */
  start(): Promise<void> {
    this.starting ??= this.join();
    return this.starting;
  }

  private async join(): Promise<void> {
    if (this.stopping) return;
    const { port, unitId } = this.config;
    try {
      this.lease = await this.buses.acquire(port, unitId, this.ctx.deviceId, this.ctx.log);
    } catch (err) {
      const e = err as Error & { code?: string };
      this.stateLog.set('down', this.stateLog.recordError({ code: e.code ?? 'MODBUS_RTU_START', message: e.message }));
      throw err;
    }
    if (this.stopping) {
      await this.lease.release();
      return;
    }
    this.poller.start(() => this.run());
  }

  async stop(): Promise<void> {
    // Halt first, so a join still acquiring the bus releases it instead of starting the loop.
    this.poller.halt();
    await this.starting?.catch(() => undefined);
    await this.poller.stop();
    await this.lease?.release();
    this.stateLog.set('stopped');
  }

  status(): DeviceStatus {
    const bus = this.lease?.bus;
    return this.stateLog.status(this.lastGoodTs, this.counters, {
      port: this.config.port.path,
      resolvedPort: bus?.resolvedPath ?? null,
      portOpen: bus?.isOpen ?? false,
      unitId: this.config.unitId,
      breaker: this.breaker.state,
      nextProbeAt: this.breaker.nextProbeAt,
      requestsPerPoll: this.plan.requests.length,
      unitsOnBus: bus ? this.lease!.peers() + 1 : 0,
      bus: bus ? { ...bus.counters, ...bus.timing, port: bus.portCounters } : null,
    });
  }

  /**
   * Writes coils or holding registers of this unit (FC 5, 6, 15, 16) in the bus's next free
   * turn, ahead of every queued poll request. Rejects with a ModbusError as a read would (the
   * port's code while it is closed, ETIMEDOUT, the unit's exception, EBADRESPONSE for a wrong
   * echo, ENOTCONN before the driver has joined its bus).
   */
  /** A declared writable point (writes.ts): converted, written, pulsed and read back in the bus's turns. */
  write(point: string, request: PointRequest): Promise<WriteResult> {
    return this.writer.write(
      {
        writePdu: (req) => this.writePdu(req),
        readPdu: (table, address, count) => {
          const bus = this.lease?.bus;
          if (!bus || this.stopping) return Promise.reject(new ModbusError('ENOTCONN', `read-back from unit ${this.config.unitId} on ${this.config.port.path}: driver not running`, 'connection'));
          return bus.read({ unitId: this.config.unitId, table, address, count }, this.config.timeoutMs, this.poller.signal);
        },
      },
      point,
      request,
    );
  }

  writePdu(req: WriteRequest): Promise<void> {
    const bus = this.lease?.bus;
    if (!bus || this.stopping) {
      return Promise.reject(new ModbusError('ENOTCONN', `write to unit ${this.config.unitId} on ${this.config.port.path}: driver not running`, 'connection'));
    }
    return bus.write(this.config.unitId, req, this.config.timeoutMs, this.poller.signal);
  }

  private get stopping(): boolean {
    return this.poller.stopping;
  }

  private async run(): Promise<void> {
    const schedule = new PollSchedule(this.config.intervalMs);
    while (!this.stopping) {
      await this.pollOnce(Date.now());
      const { waitMs, skipped } = schedule.afterPoll();
      this.counters.overruns += skipped;
      await this.sleep(waitMs);
    }
  }

  private async pollOnce(ts: number): Promise<void> {
    const bus = this.lease!.bus;
    if (!bus.isOpen) {
      this.counters.portErrors++;
      const e = bus.portError;
      const error = new ModbusError(e?.code ?? 'ENOTCONN', e?.message ?? `serial port ${this.config.port.path} is not open yet`, 'connection');
      this.emitter.emitAllBad(error.code, ts);
      this.stateLog.set('down', this.stateLog.recordError(error));
      return;
    }
    const admission = this.breaker.admit(ts);
    if (admission === 'skip') {
      this.counters.skippedPolls++;
      return;
    }
    if (admission === 'probe') {
      this.counters.probes++;
      this.ctx.log.debug({ unitId: this.config.unitId }, 'probing unit behind an open breaker');
    }
    this.counters.polls++;
    const results = await readPlan(this.plan, (r) => this.readThroughBreaker(r));
    // A probe cut short by the port vanishing proved nothing either way: probe again next tick.
    if (this.breaker.state === 'half-open') this.breaker.probeInconclusive(Date.now());
    if (this.stopping) return;

    const t = tallyPoll(results);
    this.counters.requests += t.sent;
    for (const e of t.sentErrors) {
      const counter = counterFor(e);
      if (counter) this.counters[counter]++;
      else if (e.kind === 'connection') this.counters.portErrors++;
      if (e.kind === 'response' || e.kind === 'exception') this.faultLog.warn(e.code, { unitId: this.config.unitId, code: e.code }, e.message);
    }
    this.emitter.emitPoll(results, ts);
    if (t.good > 0) this.lastGoodTs = ts;
    if (t.firstError) this.stateLog.recordError(t.firstError);
    this.stateLog.set(t.state, t.state === 'ok' ? undefined : this.stateLog.lastError);
  }

  /** Reads through the shared bus, feeding every outcome to the breaker. */
  private async readThroughBreaker(r: ReadRequest): Promise<Buffer> {
    const { unitId, timeoutMs } = this.config;
    try {
      const data = await this.lease!.bus.read({ unitId, table: r.table, address: r.address, count: r.count }, timeoutMs, this.poller.signal);
      this.unitAnswered();
      return data;
    } catch (err) {
      const error = err as ModbusError;
      if (error.kind === 'timeout') this.unitSilent();
      // Any reply, even a garbled or foreign one, came back without costing the bus a
      // timeout; the breaker exists to stop timeouts, the counters show the rest.
      else if (error.kind === 'exception' || error.kind === 'response') this.unitAnswered();
      throw error;
    }
  }

  private unitAnswered(): void {
    if (this.breaker.answered()) {
      this.ctx.log.info({ unitId: this.config.unitId, port: this.config.port.path }, 'unit answers again: circuit breaker closed');
    }
  }

  private unitSilent(): void {
    if (!this.breaker.timedOut(Date.now())) return;
    this.counters.breakerOpens++;
    const retryInMs = (this.breaker.nextProbeAt ?? Date.now()) - Date.now();
    this.ctx.log.warn(
      { unitId: this.config.unitId, port: this.config.port.path, retryInMs, opens: this.breaker.opens },
      `unit ${this.config.unitId} silent: circuit breaker open, polls skipped until a probe in ${Math.round(retryInMs)} ms`,
    );
  }

  private sleep(ms: number): Promise<void> {
    return this.poller.sleep(ms);
  }
}
