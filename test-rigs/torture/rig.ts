import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ACK_FLUSH_MS } from '../../gateway/outbox/ack-queue.js';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../harness/config-dir.js';
import { GatewayProcess, type LogLine } from '../harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { startFaultProxy, type FaultProxy } from '../net-fault/fault-proxy.js';
import { startSubscriber, type Subscriber } from '../subscriber/subscriber.js';
import { recordFigures, type ScenarioFigures } from './figures.js';
import { committedUpTo, integrityCheck, outboxId, pendingReadings } from './outbox-file.js';

/**
 * One torture scenario's world: real mosquitto (persistent), a fast Modbus TCP simulator feeding
 * several devices, the real daemon as a child process (optionally behind the network fault
 * proxy), and the reference subscriber connected straight to the broker. `finish()` is the
 * verdict every scenario shares: integrity of the outbox file, a final drain, no gaps, counted
 * duplicates, pending 0.
 */
export type Profile = 'short' | 'long';

export interface RigOptions {
  scenario: string;
  profile: Profile;
  devices?: number;
  registersPerDevice?: number;
  pollMs?: number;
  inflightWindow?: number;
  batchMaxReadings?: number;
  /** Put the fault proxy between gateway and broker. */
  viaProxy?: boolean;
  /** Deep-merged over the generated gateway.yaml sections. */
  gateway?: Record<string, Record<string, unknown>>;
  gatewayEnv?: Record<string, string>;
  keepReadings?: boolean;
}

export interface FinishOptions {
  /** Interruptions the stream went through (kills, outages, faults): bounds duplicates. */
  interruptions: number;
  /** Most duplicates one interruption may cause; default one in-flight window. */
  duplicatesPerInterruption?: number;
  /** First seq of the outbox being checked (a quarantined outbox's successor continues numbering). */
  fromSeq?: number;
  /** Runs in which a quarantine is the expected outcome; otherwise any quarantine fails the scenario. */
  quarantineExpected?: boolean;
  extra?: Record<string, unknown>;
}

export class TortureRig {
  readonly runs: GatewayProcess[] = [];
  gw: GatewayProcess | null = null;
  private readonly startedMs = Date.now();

  private constructor(
    readonly opts: RigOptions,
    readonly broker: BrokerFixture,
    readonly sim: ModbusTcpSimulator,
    readonly proxy: FaultProxy | null,
    readonly config: ConfigDir,
    readonly sub: Subscriber,
  ) {}

  static async start(opts: RigOptions): Promise<TortureRig> {
    const devices = opts.devices ?? 4;
    const registers = opts.registersPerDevice ?? 8;
    const broker = await startBroker({ persistence: true });
    const cleanup: (() => Promise<void>)[] = [() => broker.dispose()];
    try {
      const units = Array.from({ length: devices }, (_, i) => i + 1);
      const sim = await startModbusTcpSimulator({
        units: Object.fromEntries(units.map((u) => [u, { dynamics: [{ table: 'holding' as const, address: 0, kind: 'counter' as const }] }])),
        stepMs: 10,
      });
      cleanup.push(() => sim.stop());
      const proxy = opts.viaProxy ? await startFaultProxy({ target: { host: '127.0.0.1', port: broker.port } }) : null;
      if (proxy) cleanup.push(() => proxy.stop());
      const deviceFiles: Record<string, Record<string, unknown>> = {};
      for (const u of units) {
        deviceFiles[`dev-${u}`] = {
          type: 'modbus-tcp',
          host: sim.host,
          port: sim.port,
          unitId: u,
          intervalMs: opts.pollMs ?? 25,
          registers: Array.from({ length: registers }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })),
        };
      }
      const config = writeConfigDir({
        gatewayId: `torture-${opts.scenario}`,
        brokerUrls: [proxy ? `mqtt://127.0.0.1:${proxy.port}` : broker.url],
        devices: deviceFiles,
        gateway: {
          forward: { inflightWindow: opts.inflightWindow ?? 4, batchMaxReadings: opts.batchMaxReadings ?? 200 },
          ...opts.gateway,
        },
      });
      cleanup.push(async () => rmSync(config.dir, { recursive: true, force: true }));
      const sub = await startSubscriber({
        url: broker.url,
        prefix: config.topicPrefix,
        gatewayId: config.gatewayId,
        clientId: `torture-${opts.scenario}-${process.pid}-${Date.now()}`,
        keepReadings: opts.keepReadings ?? false,
      });
      return new TortureRig(opts, broker, sim, proxy, config, sub);
    } catch (err) {
      for (const c of cleanup.reverse()) await c().catch(() => undefined);
      throw err;
    }
  }

  get outboxPath(): string {
    return this.config.outboxPath;
  }

  startGateway(env: Record<string, string> = {}): GatewayProcess {
    const gw = GatewayProcess.start(this.config.dir, { env: { ...this.opts.gatewayEnv, ...env } });
    this.gw = gw;
    this.runs.push(gw);
    return gw;
  }

  /** Start and wait for `gateway running`, with the child's stderr in the error if it never gets there. */
  async startGatewayReady(env: Record<string, string> = {}): Promise<GatewayProcess> {
    const gw = this.startGateway(env);
    await gw.ready(30_000).catch((err: Error) => {
      throw new Error(`${this.opts.scenario}: gateway did not start: ${err.message}\nstderr:\n${gw.stderr.join('\n')}`);
    });
    return gw;
  }

  isRunning(gw: GatewayProcess | null = this.gw): boolean {
    return gw !== null && gw.child.exitCode === null && gw.child.signalCode === null;
  }

  /** Wait until the subscriber has `n` more distinct readings than now. */
  async progress(n: number, what: string, timeoutMs = 45_000): Promise<void> {
    const before = this.sub.tracker.receivedCount;
    await this.sub.waitFor((s) => s.tracker.receivedCount >= before + n, timeoutMs).catch((err: Error) => {
      throw new Error(`${this.opts.scenario}: no progress after ${what}: ${err.message}${this.gatewayDied()}`);
    });
  }

  /** Wait until the subscriber has received nothing new for `quietMs` (it holds all the broker had). */
  async subscriberQuiet(quietMs: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = this.sub.counters.readings;
    let since = Date.now();
    while (Date.now() - since < quietMs) {
      if (Date.now() > deadline) throw new Error(`${this.opts.scenario}: the subscriber never went quiet`);
      await sleep(50);
      if (this.sub.counters.readings !== last) {
        last = this.sub.counters.readings;
        since = Date.now();
      }
    }
  }

  /** For error messages: if the current gateway exited on its own, how and with what stderr. */
  gatewayDied(): string {
    const gw = this.gw;
    if (gw === null || this.isRunning(gw)) return '';
    return `\ngateway exited on its own (code ${gw.child.exitCode}, signal ${gw.child.signalCode}); stderr:\n${gw.stderr.slice(-25).join('\n')}`;
  }

  logs(): LogLine[] {
    return this.runs.flatMap((r) => r.logs);
  }

  /**
   * The shared verdict. Stops the gateway cleanly, checks the file, then drains whatever is left
   * through a gateway with no devices (so nothing new is committed) and checks that every seq
   * committed to this outbox arrived, except ranges the gateway itself declared dropped.
   */
  async finish(f: FinishOptions): Promise<ScenarioFigures> {
    const name = this.opts.scenario;
    if (this.isRunning()) {
      const exit = await this.gw!.stop(20_000);
      expect(exit.code, `${name}: clean stop exit code`).toBe(0);
    }
    expect(integrityCheck(this.outboxPath), `${name}: integrity_check after the last run`).toBe('ok');

    // Final drain: the same outbox and broker, no devices, so the backlog only shrinks.
    for (const file of readdirSync(join(this.config.dir, 'devices'))) rmSync(join(this.config.dir, 'devices', file));
    if (!this.broker.isRunning) await this.broker.start();
    if (this.proxy && this.proxy.current !== 'pass') await this.proxy.mode('pass');
    const last = committedUpTo(this.outboxPath);
    const id = outboxId(this.outboxPath);
    const from = f.fromSeq ?? 1;
    await this.startGatewayReady();
    const tracker = (): ReturnType<Subscriber['trackers']['get']> => (id === null ? undefined : this.sub.trackers.get(id));
    await this.sub
      .waitFor(() => tracker()?.checkComplete(from, last).complete === true, 90_000)
      .catch(() => undefined); // the assertions below say what is missing
    const exit = await this.gw!.stop(20_000);
    expect(exit.code, `${name}: drain gateway exit code`).toBe(0);

    const t = tracker();
    expect(t, `${name}: subscriber saw outbox ${id}`).toBeDefined();
    const report = t!.checkComplete(from, last);
    const quarantines = this.logs().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('outbox database was corrupt'));
    const figures: ScenarioFigures = {
      scenario: name,
      profile: this.opts.profile,
      readings: t!.receivedCount,
      committed: last - from + 1,
      lost: report.missingCount,
      duplicates: t!.duplicates,
      reused: [...this.sub.trackers.values()].reduce((n, x) => n + x.reused, 0),
      outboxIds: this.sub.trackers.size,
      declaredDropped: report.dropped.reduce((n, [a, b]) => n + (b - a + 1), 0),
      interruptions: f.interruptions,
      gatewayRuns: this.runs.length,
      durationS: Math.round((Date.now() - this.startedMs) / 1000),
      ...f.extra,
    };
    recordFigures(figures);

    expect(report.missing, `${name}: committed seqs ${from}..${last} that never arrived`).toEqual([]);
    expect(figures.reused, `${name}: seqs that arrived again with different content ${JSON.stringify(t!.reusedSeqs().slice(0, 5))}`).toBe(0);
    expect(pendingReadings(this.outboxPath), `${name}: pending after the final drain`).toBe(0);
    expect(integrityCheck(this.outboxPath), `${name}: integrity_check after the final drain`).toBe('ok');
    expect(this.sub.counters.malformed, `${name}: malformed payloads ${JSON.stringify(this.sub.malformed)}`).toBe(0);
    const perInterruption = f.duplicatesPerInterruption ?? this.inflightDuplicates;
    expect(t!.duplicates, `${name}: duplicates vs ${f.interruptions} interruptions`).toBeLessThanOrEqual(
      Math.max(1, f.interruptions) * perInterruption,
    );
    if (!f.quarantineExpected) expect(quarantines, `${name}: no run may find the outbox corrupt`).toEqual([]);
    return figures;
  }

  /** Most duplicates a lost connection may cause: one in-flight window, sent again. */
  get inflightDuplicates(): number {
    return (this.opts.inflightWindow ?? 4) * (this.opts.batchMaxReadings ?? 200);
  }

  /**
   * Most duplicates killing the gateway may cause: the in-flight window, and the readings the
   * broker acknowledged that the outbox had not yet deleted (it applies acks in bulk, every
   * ACK_FLUSH_MS: gateway/outbox/ack-queue.ts), i.e. up to that long of the polled rate.
   */
  get killDuplicates(): number {
    const perSecond = ((this.opts.devices ?? 4) * (this.opts.registersPerDevice ?? 8) * 1000) / (this.opts.pollMs ?? 25);
    return this.inflightDuplicates + Math.ceil((perSecond * ACK_FLUSH_MS) / 1000);
  }

  async dispose(): Promise<void> {
    for (const r of this.runs) await r.kill('SIGKILL').catch(() => undefined);
    await this.sub.stop().catch(() => undefined);
    await this.proxy?.stop().catch(() => undefined);
    await this.sim.stop().catch(() => undefined);
    await this.broker.dispose().catch(() => undefined);
    rmSync(this.config.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
