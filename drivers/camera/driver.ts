import type { DeviceError, DeviceState, DeviceStatus, Driver, DriverContext } from '../driver.js';
import type { DriverReading, Quality } from '../../gateway/model/reading.js';
import { evaluateProbes, type CameraEvaluation, type CameraState } from './camera-state.js';
import { FlapDamper } from './flap-damper.js';
import { onvifProbe } from './onvif-probe.js';
import { cameraProbeLimiter, type ProbeLimiter } from './probe-limiter.js';
import { ProbeError, type DeviceInfo, type ProbeProgress, type ProbeResult, type ProbeSuccess } from './probe-result.js';
import { makeRedactor } from './redact.js';
import { rtspProbe } from './rtsp-probe.js';
import { cameraPassword, probeNames, type CameraDeviceConfig, type ProbeName } from './schema.js';
import { snapshotProbe } from './snapshot-probe.js';
import { tcpProbe } from './tcp-connect.js';

type ProbeFn = (signal: AbortSignal, progress: ProbeProgress) => Promise<ProbeSuccess | void>;

interface PlannedProbe {
  name: ProbeName;
  timeoutMs: number;
  run: ProbeFn;
}

/** Camera events speak online/degraded/offline; status and health speak device states (docs/payload.md, "Device states"). */
export const driverStates: Record<CameraState, DeviceState> = { online: 'ok', degraded: 'degraded', offline: 'down' };

/**
 * The reason behind a camera state, naming the probes it rests on. A TCP connect alone proves the
 * camera accepts connections, not that it streams: say so, since such a camera shows as online.
 */
export function describeEvaluation(evaluation: CameraEvaluation, probes: readonly string[]): string {
  if (evaluation.state !== 'online') return `${evaluation.state}: ${evaluation.reason} (${evaluation.message})`;
  const basis = `online: ${probes.length === 1 ? `${probes[0]} probe passed` : `all probes passed (${probes.join(', ')})`}`;
  return probes.length === 1 && probes[0] === 'tcp'
    ? `${basis}; tcp connect only: proves the camera accepts connections, not that it streams (add an rtsp, onvif or snapshot probe)`
    : basis;
}

/**
 * online and degraded are what the camera itself answered; offline is inferred from silence and
 * could as well be the network path to it, so it is not claimed as a good reading of the camera.
 */
function stateQuality(state: CameraState): Quality {
  return state === 'offline' ? 'uncertain' : 'good';
}

/** Compile the configured probes once, at construction, into closures over their targets. */
function planProbes(cfg: CameraDeviceConfig): PlannedProbe[] {
  const username = cfg.username;
  const password = cameraPassword(cfg)?.reveal();
  const allowBasicAuth = cfg.allowBasicAuth;
  const p = cfg.probes;
  const planned: PlannedProbe[] = [];
  for (const name of probeNames) {
    if (name === 'tcp' && p.tcp) {
      const { port } = p.tcp;
      planned.push({ name, timeoutMs: p.tcp.timeoutMs, run: (s, pr) => tcpProbe(cfg.host, port, s, pr) });
    } else if (name === 'rtsp' && p.rtsp) {
      const target = { host: cfg.host, port: p.rtsp.port, path: p.rtsp.path, username, password, allowBasicAuth };
      planned.push({ name, timeoutMs: p.rtsp.timeoutMs, run: (s, pr) => rtspProbe(target, s, pr) });
    } else if (name === 'onvif' && p.onvif) {
      const target = { host: cfg.host, port: p.onvif.port, path: p.onvif.path, https: p.onvif.https, username, password, allowBasicAuth };
      planned.push({ name, timeoutMs: p.onvif.timeoutMs, run: (s, pr) => onvifProbe(target, s, pr) });
    } else if (name === 'snapshot' && p.snapshot) {
      const target = { url: p.snapshot.url, allowSelfSigned: p.snapshot.allowSelfSigned, username, password, allowBasicAuth };
      planned.push({ name, timeoutMs: p.snapshot.timeoutMs, run: (s, pr) => snapshotProbe(target, s, pr) });
    }
  }
  return planned;
}

export interface CameraDriverOptions {
  /** Defaults to the process-wide limiter; tests pass their own to stay independent. */
  limiter?: ProbeLimiter;
}

/**
 * Checks one camera every `intervalMs` with its configured probes and reports whether it is
 * online, degraded or offline. Probes run through a limiter shared by all cameras, each under a
 * hard timeout, so one hung camera cannot hold up the rest.
 */
export class CameraDriver implements Driver {
  readonly #cfg: CameraDeviceConfig;
  readonly #ctx: DriverContext;
  readonly #limiter: ProbeLimiter;
  readonly #probes: PlannedProbe[];
  readonly #redact: (s: string) => string;
  readonly #damper: FlapDamper<CameraState>;
  readonly #inFlight = new Set<AbortController>();
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<void> | undefined;
  #running = false;
  #stopped = false;
  #lastEval: CameraEvaluation | undefined;
  #lastResults: ProbeResult[] = [];
  #lastGoodTs: number | null = null;
  #lastError: DeviceError | null = null;
  #stateReason: string | undefined;
  #pendingReason: string | undefined;
  #stateSince: number | undefined;
  #info: DeviceInfo | undefined;
  #clockSkewMs: number | undefined;
  readonly #counters = { cycles: 0, probes: 0, probeFailures: 0, timeouts: 0, overruns: 0, stateChanges: 0 };

  constructor(cfg: CameraDeviceConfig, ctx: DriverContext, options: CameraDriverOptions = {}) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.#limiter = options.limiter ?? cameraProbeLimiter;
    this.#probes = planProbes(cfg);
    this.#redact = makeRedactor(cfg.username, cameraPassword(cfg)?.reveal());
    this.#damper = new FlapDamper<CameraState>(cfg.flapThreshold);
  }

  async start(): Promise<void> {
    if (this.#timer || this.#stopped) return;
    this.#ctx.log.info(
      { host: this.#cfg.host, probes: this.#probes.map((p) => p.name), intervalMs: this.#cfg.intervalMs },
      'camera checks starting',
    );
    this.#timer = setInterval(() => this.#tick(), this.#cfg.intervalMs);
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const c of this.#inFlight) c.abort(new ProbeError('ETIMEDOUT', 'driver stopping', false));
    await this.#cycle;
  }

  status(): DeviceStatus {
    const state: DeviceState = this.#stopped
      ? 'stopped'
      : this.#damper.state === undefined
        ? 'starting'
        : driverStates[this.#damper.state];
    const latencyMs: Record<string, number | null> = {};
    for (const r of this.#lastResults) latencyMs[r.probe] = r.ok ? r.latencyMs : null;
    return {
      state,
      lastGoodTs: this.#lastGoodTs,
      lastError: this.#lastError,
      ...(this.#stateReason !== undefined ? { stateReason: [this.#stateReason, this.#pendingReason].filter(Boolean).join('; ') } : {}),
      ...(this.#stateSince !== undefined ? { stateSince: this.#stateSince } : {}),
      counters: { ...this.#counters },
      detail: {
        camera: this.#damper.state ?? 'unknown',
        probes: this.#probes.map((p) => p.name),
        lastEvaluation: this.#lastEval ?? null,
        pending: this.#damper.pending ?? null,
        latencyMs,
        ...(this.#info ? { device: { ...this.#info } } : {}),
        ...(this.#clockSkewMs !== undefined ? { clockSkewMs: this.#clockSkewMs } : {}),
      },
    };
  }

  #tick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      // Previous check still waiting for probe slots or timeouts; never stack cycles.
      this.#counters.overruns += 1;
      return;
    }
    this.#running = true;
    this.#cycle = this.#runCycle()
      .catch((err: unknown) => {
        this.#ctx.log.error({ err: this.#redact(String(err)) }, 'camera check cycle failed');
      })
      .finally(() => {
        this.#running = false;
      });
  }

  async #runCycle(): Promise<void> {
    const results = await Promise.all(
      this.#probes.map((p) => this.#limiter.run(this.#ctx.deviceId, () => this.#runProbe(p))),
    );
    if (this.#stopped) return;
    const now = Date.now();
    this.#counters.cycles += 1;
    this.#lastResults = results;
    const evaluation = evaluateProbes(results);
    this.#lastEval = evaluation;
    if (evaluation.state === 'online') this.#lastGoodTs = now;

    const readings: DriverReading[] = [];
    const seen = this.#damper.observe(evaluation.state);
    if (seen.changed) this.#stateSince = now;
    // The reason for the state in force: from the latest check that agrees with it. A check that
    // disagrees but has not yet outlasted the flap damping is said as such, not taken for the state.
    const names = this.#probes.map((p) => p.name);
    if (evaluation.state === seen.state) {
      this.#stateReason = describeEvaluation(evaluation, names);
      this.#pendingReason = undefined;
    } else {
      this.#pendingReason = `latest check: ${describeEvaluation(evaluation, names)} (not yet ${this.#cfg.flapThreshold} in a row)`;
    }
    if (seen.changed) {
      this.#counters.stateChanges += 1;
      const previous = seen.previous ?? 'unknown';
      const attrs = { reason: evaluation.reason, previous, message: evaluation.message.slice(0, 500) };
      readings.push({ point: 'state', value: seen.state, quality: stateQuality(seen.state), ts: now, kind: 'event', attrs });
      const log = seen.state === 'online' ? this.#ctx.log.info.bind(this.#ctx.log) : this.#ctx.log.warn.bind(this.#ctx.log);
      log({ from: previous, to: seen.state, reason: evaluation.reason, detail: attrs.message }, 'camera state changed');
    }
    for (const r of results) {
      readings.push(
        r.ok
          ? { point: `latency.${r.probe}`, value: r.latencyMs, quality: 'good', ts: now, unit: 'ms', kind: 'telemetry' }
          : { point: `latency.${r.probe}`, value: null, quality: 'bad', ts: now, unit: 'ms', kind: 'telemetry' },
      );
      if (r.ok && r.info) this.#noteInfo(r.info, now, readings);
      if (r.ok && r.clockSkewMs !== undefined) this.#clockSkewMs = r.clockSkewMs;
    }
    readings.push({ point: 'state', value: seen.state, quality: stateQuality(seen.state), ts: now, kind: 'telemetry' });
    this.#ctx.emit(readings);
  }

  #noteInfo(info: DeviceInfo, now: number, readings: DriverReading[]): void {
    const before = this.#info;
    this.#info = info;
    if (before && before.firmware === info.firmware && before.model === info.model) return;
    const attrs = { model: info.model, manufacturer: info.manufacturer, previous: before?.firmware ?? '' };
    readings.push({ point: 'firmware', value: info.firmware, quality: 'good', ts: now, kind: 'event', attrs });
    this.#ctx.log.info({ ...attrs, firmware: info.firmware }, before ? 'camera firmware/model changed' : 'camera identified');
  }

  async #runProbe(p: PlannedProbe): Promise<ProbeResult> {
    const progress: ProbeProgress = { connected: false };
    const controller = new AbortController();
    if (this.#stopped) controller.abort(new ProbeError('ETIMEDOUT', 'driver stopping', false));
    this.#inFlight.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new ProbeError('ETIMEDOUT', `${p.name}: no complete answer within ${p.timeoutMs} ms`, false));
    }, p.timeoutMs);
    const started = performance.now();
    let onAbort: (() => void) | undefined;
    // Settles the moment the signal fires, even if a probe ignored it: the slot is released on time.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(controller.signal.reason);
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    const work = p.run(controller.signal, progress);
    work.catch(() => undefined); // a late rejection after the race is already decided
    this.#counters.probes += 1;
    try {
      const success = (await Promise.race([work, aborted])) ?? {};
      return { probe: p.name, ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, ...success };
    } catch (err) {
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      let failure: ProbeError;
      if (timedOut) {
        this.#counters.timeouts += 1;
        failure = new ProbeError(
          'ETIMEDOUT',
          `${p.name}: no complete answer within ${p.timeoutMs} ms (${progress.connected ? 'connected, then camera went silent' : 'no connection'})`,
          progress.connected,
        );
      } else if (err instanceof ProbeError) {
        failure = err;
      } else {
        failure = new ProbeError('ENETWORK', `${p.name}: ${String(err)}`, progress.connected);
      }
      this.#counters.probeFailures += 1;
      const message = this.#redact(failure.message.startsWith(p.name) ? failure.message : `${p.name}: ${failure.message}`);
      this.#lastError = { code: failure.code, message, ts: Date.now() };
      this.#ctx.log.debug({ probe: p.name, code: failure.code, latencyMs, detail: message }, 'camera probe failed');
      return { probe: p.name, ok: false, latencyMs, code: failure.code, message, reached: failure.reached };
    } finally {
      clearTimeout(timer);
      if (onAbort) controller.signal.removeEventListener('abort', onAbort);
      // Whatever the probe still holds (socket, request) is torn down now, not at its leisure.
      if (!controller.signal.aborted) controller.abort(new ProbeError('ETIMEDOUT', 'probe finished', false));
      this.#inFlight.delete(controller);
    }
  }
}

export function createCameraDriver(config: CameraDeviceConfig, ctx: DriverContext): Driver {
  return new CameraDriver(config, ctx);
}
