import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { SerialLinePort } from '../transport/serial/line-port.js';
import { RateLimitedLog } from '../kit/rate-limited-log.js';
import { lineEnding } from '../transport/serial/terminator.js';
import { PackingEmitter } from '../kit/packing-emitter.js';
import { PointSet } from '../kit/point-set.js';
import { compileLineParser, linePoints } from './parse/compile.js';
import { serialLineTerminator, type SerialLineDeviceConfig } from './schema.js';
import { StreamLifecycle } from '../kit/stream-lifecycle.js';

/** NMEA 0183 reserves '$' and '!' as sentence starts: one inside a line means the line before it was cut off. */
const NMEA_START = Buffer.from('$!', 'latin1');

/**
 * Sensors that print a line per sample: weather stations, counters, NMEA talkers. Every line goes
 * through the parser compiled at config load; whatever it cannot use is counted, never thrown.
 */
class SerialLineDriver implements Driver {
  private readonly counters = {
    lines: 0,
    readings: 0,
    unparsed: 0,
    badFields: 0,
    checksumErrors: 0,
    ignored: 0,
    /** NMEA sentences without a valid fix, dropped because noFix: drop. */
    noFixDropped: 0,
    overlongLines: 0,
    /** Partial lines cut off by a pause or by the next sentence's '$', dropped. */
    fragmentsDiscarded: 0,
    /** Every byte dropped: fragments and overlong lines. */
    bytesDiscarded: 0,
    /** Lines holding a CR/LF inside: the configured terminator is not what the device sends. */
    mixedEndingLines: 0,
  };
  private readonly port: SerialLinePort;
  private readonly throttle: RateLimitedLog;
  private lastGoodTs: number | null = null;
  private openedAt: number | null = null;
  private readonly lifecycle: StreamLifecycle;
  private lastProblem: { code: string; message: string; ts: number } | null = null;
  /** A line's good numbers and booleans go to the core packed (payload v2 poll records). */
  private readonly emitter: PackingEmitter;

  constructor(
    private readonly cfg: SerialLineDeviceConfig,
    private readonly ctx: DriverContext,
  ) {
    const parse = compileLineParser(cfg.parse);
    this.emitter = new PackingEmitter(new PointSet(linePoints(cfg.parse)), ctx);
    this.throttle = new RateLimitedLog(ctx.log);
    const stripCR = cfg.stripCR;
    const terminator = serialLineTerminator(cfg);
    this.port = new SerialLinePort({
      port: cfg.port,
      ending: lineEnding(terminator),
      maxLineBytes: cfg.maxLineBytes,
      interCharTimeoutMs: cfg.interCharTimeoutMs,
      ...(cfg.parse.kind === 'nmea' ? { lineStartBytes: NMEA_START } : {}),
      log: ctx.log,
      onDiscarded: (fragments, bytes) => {
        this.counters.fragmentsDiscarded += fragments;
        this.counters.bytesDiscarded += bytes;
        if (fragments > 0) this.problem('LINE_FRAGMENT', `${fragments} partial line(s) (${bytes} bytes) dropped: cut off by a pause or by the next sentence`);
      },
      onMixedEndings: (n) => {
        this.counters.mixedEndingLines += n;
        const name = typeof terminator === 'string' ? terminator : JSON.stringify(terminator);
        this.problem('MIXED_LINE_ENDINGS', `a line contained a CR/LF although terminator is ${name}: lines are being merged; set terminator: any or the device's ending`);
      },
      onOpen: () => (this.openedAt = Date.now()),
      onOverlong: (n) => {
        this.counters.overlongLines += n;
        this.problem('LINE_TOO_LONG', `line longer than maxLineBytes=${cfg.maxLineBytes} dropped (wrong baud rate or terminator?)`);
      },
      onLine: (buf, ts) => {
        if (!this.running) return;
        this.counters.lines++;
        let text = buf.toString(cfg.encoding);
        if (stripCR && text.endsWith('\r')) text = text.slice(0, -1);
        if (text.trim() === '') return;
        const r = parse(text, ts);
        switch (r.kind) {
          case 'readings':
            this.counters.readings += r.readings.length;
            this.counters.badFields += r.badFields.length;
            this.lastGoodTs = ts;
            if (r.badFields.length > 0) this.problem('BAD_FIELD', `fields without a usable value: ${r.badFields.join(', ')}`, text);
            this.emitter.emit(r.readings);
            break;
          case 'unparsed':
            this.counters.unparsed++;
            this.problem('UNPARSED', r.reason, text);
            break;
          case 'checksum':
            this.counters.checksumErrors++;
            this.problem('CHECKSUM', r.reason, text);
            break;
          case 'ignored':
            this.counters.ignored++;
            break;
          case 'noFix':
            this.counters.noFixDropped++;
            break;
        }
      },
    });
    this.lifecycle = new StreamLifecycle(this.port);
  }

  private problem(code: string, message: string, line?: string): void {
    this.lastProblem = { code, message, ts: Date.now() };
    // Only a prefix of the line: it is device garbage and could be long.
    const obj: Record<string, unknown> = { code, path: this.cfg.port.path };
    if (line !== undefined) obj.line = line.slice(0, 120);
    this.throttle.warn(code, obj, message);
  }

  readonly start = (): Promise<void> => this.lifecycle.start();
  readonly stop = (): Promise<void> => this.lifecycle.stop();
  private get running(): boolean {
    return this.lifecycle.running;
  }

  status(): DeviceStatus {
    const now = Date.now();
    let state: DeviceStatus['state'];
    if (!this.running) state = 'stopped';
    else if (!this.port.isOpen) state = this.port.counters.opens === 0 && this.port.lastError === null ? 'starting' : 'down';
    else {
      const since = Math.max(this.lastGoodTs ?? 0, this.openedAt ?? now);
      state = now - since > this.cfg.staleAfterMs ? 'degraded' : 'ok';
    }
    const portError = this.port.isOpen ? null : this.port.lastError;
    return {
      state,
      lastGoodTs: this.lastGoodTs,
      lastError: portError ?? this.lastProblem,
      counters: { ...this.counters, ...this.port.counters },
      detail: {
        path: this.cfg.port.path,
        resolvedPath: this.port.resolvedPath,
        open: this.port.isOpen,
        parser: this.cfg.parse.kind,
      },
    };
  }
}

export const createSerialLineDriver: DriverFactory<SerialLineDeviceConfig> = (cfg, ctx) => new SerialLineDriver(cfg, ctx);
