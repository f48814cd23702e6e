import type { DeviceError, DeviceState, DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { systemClock, type Clock } from './debounce.js';
import type { GpioError } from './errors.js';
import { GpioInput } from './input.js';
import { GpioOutput } from './output.js';
import { WriteRefused, type WriteRequest, type WriteResult } from '../writable-point.js';
import { onoffPinSource } from './onoff-source.js';
import type { PinSource } from './pin-source.js';
import { PackingEmitter } from '../kit/packing-emitter.js';
import { PointSet } from '../kit/point-set.js';
import { inputPoints, type GpioDeviceConfig } from './schema.js';

export interface GpioDriverOptions {
  /** Hardware access; default onoff on /sys/class/gpio. Tests pass test-rigs/fake-gpio. */
  pinSource?: PinSource;
  clock?: Clock;
  /** How often lines are re-read to catch missed interrupts and notice dead lines. */
  reconcileMs?: number;
  /** How often a faulted line is opened again (a busy pin may be released). */
  retryMs?: number;
}

export const createGpioDriver: DriverFactory<GpioDeviceConfig> = (config, ctx) => new GpioDriver(config, ctx, {});

/** The same driver over another pin source (the fake in tests); everything else is unchanged. */
export function gpioDriverFactory(options: GpioDriverOptions): DriverFactory<GpioDeviceConfig> {
  return (config, ctx) => new GpioDriver(config, ctx, options);
}

class GpioDriver implements Driver {
  private readonly inputs: GpioInput[];
  private readonly outputs: Map<string, GpioOutput>;
  private readonly clock: Clock;
  private readonly reconcileMs: number;
  private readonly retryMs: number;
  private source: PinSource | null;
  private running = false;
  private starting = false;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private lastRetry = 0;
  private retrying: Promise<void> | null = null;
  private lastGoodTs: number | null = null;
  private lastError: DeviceError | null = null;

  constructor(
    private readonly cfg: GpioDeviceConfig,
    private readonly ctx: DriverContext,
    options: GpioDriverOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.reconcileMs = options.reconcileMs ?? 5_000;
    this.retryMs = options.retryMs ?? 30_000;
    this.source = options.pinSource ?? null;
    // An interval's good counts go to the core packed (payload v2 poll records); events, bad and
    // partial intervals (which carry attrs.intervalMs) as reading objects.
    const emitter = new PackingEmitter(new PointSet(cfg.inputs.flatMap(inputPoints)), ctx);
    const hooks = {
      emit: (r: Parameters<DriverContext['emit']>[0]) => {
        if (this.running) emitter.emit(r);
      },
      alive: (ts: number) => {
        this.lastGoodTs = Math.max(this.lastGoodTs ?? 0, ts);
      },
      faulted: (e: GpioError) => {
        this.lastError = { code: e.code, message: e.message, ts: this.clock.wall() };
      },
      log: ctx.log,
    };
    this.inputs = cfg.inputs.map((i) => new GpioInput(i, this.clock, hooks));
    this.outputs = new Map(cfg.outputs.map((o) => [o.name, new GpioOutput(o, ctx.log)]));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.starting = true;
    this.source ??= onoffPinSource({ sysfsRoot: this.cfg.sysfsRoot, chip: this.cfg.chip, log: this.ctx.log });
    for (const input of this.inputs) input.beginIntervals();
    // Opening is quick (sysfs writes), and a failed line is reported in status, never thrown.
    for (const output of this.outputs.values()) await output.open(this.source);
    for (const input of this.inputs) await input.open(this.source);
    this.starting = false;
    this.lastRetry = this.clock.mono();
    if (!this.running) return; // stopped while opening
    this.reconcileTimer = setInterval(() => this.maintain(), this.reconcileMs);
    const failedOutputs = [...this.outputs.values()].filter((o) => o.state === 'error');
    if (failedOutputs.length > 0) {
      this.ctx.log.error({ outputs: failedOutputs.map((o) => ({ name: o.cfg.name, pin: o.cfg.pin, code: o.error?.code })) }, 'gpio outputs could not be claimed; retrying every %d ms', this.retryMs);
    }
    const failed = this.inputs.filter((i) => i.state === 'error');
    if (failed.length > 0) {
      this.ctx.log.error(
        { inputs: failed.map((i) => ({ name: i.cfg.name, pin: i.cfg.pin, code: i.error?.code })) },
        'gpio inputs could not be opened; retrying every %d ms',
        this.retryMs,
      );
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
    await this.retrying;
    for (const input of this.inputs) input.close(true);
    for (const output of this.outputs.values()) output.close();
    this.running = false;
  }

  async write(point: string, request: WriteRequest): Promise<WriteResult> {
    const output = this.outputs.get(point);
    if (!output) throw new WriteRefused('not-declared', `gpio device "${this.cfg.id}" has no output "${point}"`);
    if (!this.running) throw Object.assign(new Error(`gpio device "${this.cfg.id}" is not running`), { code: 'DEVICE_STOPPED' });
    return output.write(request);
  }

  status(): DeviceStatus {
    const inputs: Record<string, unknown> = {};
    let failed = 0;
    const counters = { rawEdges: 0, changes: 0, glitches: 0, faults: 0, writes: 0 };
    const outputs: Record<string, unknown> = {};
    for (const o of this.outputs.values()) {
      if (o.state === 'error') failed += 1;
      counters.writes += o.writes;
      outputs[o.cfg.name] = { pin: o.cfg.pin, state: o.state, active: o.active, ...(o.error ? { error: { code: o.error.code, message: o.error.message } } : {}) };
    }
    for (const i of this.inputs) {
      if (i.state === 'error') failed += 1;
      counters.rawEdges += i.rawEdges;
      counters.changes += i.changes;
      counters.glitches += i.glitches;
      counters.faults += i.faults;
      inputs[i.cfg.name] = {
        pin: i.cfg.pin,
        sysfs: i.sysfs,
        mode: i.cfg.mode,
        edge: i.edge,
        state: i.state,
        active: i.active,
        lastChangeTs: i.lastChangeTs,
        ...(i.cfg.mode === 'counter' ? i.counts : {}),
        ...(i.error ? { error: { code: i.error.code, message: i.error.message } } : {}),
      };
    }
    let state: DeviceState;
    if (!this.running) state = 'stopped';
    else if (this.starting) state = 'starting';
    else state = failed === 0 ? 'ok' : failed === this.inputs.length + this.outputs.size ? 'down' : 'degraded';
    return {
      state,
      lastGoodTs: this.lastGoodTs,
      lastError: this.lastError,
      counters,
      detail: { chip: this.cfg.chip ?? null, inputs, ...(this.outputs.size > 0 && { outputs }) },
    };
  }

  private maintain(): void {
    for (const input of this.inputs) input.reconcile();
    const now = this.clock.mono();
    if (this.retrying || now - this.lastRetry < this.retryMs) return;
    const faulted = this.inputs.filter((i) => i.state === 'error');
    const faultedOutputs = [...this.outputs.values()].filter((o) => o.state === 'error');
    if (faulted.length === 0 && faultedOutputs.length === 0) return;
    this.lastRetry = now;
    this.retrying = (async () => {
      for (const output of faultedOutputs) {
        if (!this.running || !this.source) break;
        await output.open(this.source);
        if (output.state === 'ok') this.ctx.log.info({ output: output.cfg.name, pin: output.cfg.pin }, 'gpio output recovered');
      }
      for (const input of faulted) {
        if (!this.running || !this.source) break;
        await input.open(this.source);
        if (input.state === 'ok') this.ctx.log.info({ input: input.cfg.name, pin: input.cfg.pin }, 'gpio input recovered');
      }
    })().finally(() => {
      this.retrying = null;
    });
  }
}
