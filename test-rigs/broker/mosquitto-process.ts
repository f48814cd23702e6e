import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrokerError } from './errors.js';
import type { LogTail } from './log-tail.js';
import { mosquittoConfig, type MosquittoConfigOptions } from './mosquitto-config.js';
import { waitForListening } from './port.js';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Every mosquitto we started, so a test process that exits early does not leave one behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One mosquitto child process; start/stop/kill may be repeated, always with the same config. */
export class MosquittoProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly binary: string,
    private readonly workDir: string,
    private readonly config: MosquittoConfigOptions,
    private readonly log: LogTail,
    private readonly ownProcessGroup = false,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const confPath = path.join(this.workDir, 'mosquitto.conf');
    writeFileSync(confPath, mosquittoConfig(this.config));
    this.stopping = false;
    const child = spawn(this.binary, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: this.ownProcessGroup });
    this.child = child;
    live.add(child);
    let exitInfo: string | null = null;
    let spawnError: Error | null = null;
    child.stdout?.on('data', (d: Buffer) => this.log.write(d));
    child.stderr?.on('data', (d: Buffer) => this.log.write(d));
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
      });
      child.once('close', (code, signal) => {
        live.delete(child);
        exitInfo = `exit code ${code ?? '-'}, signal ${signal ?? '-'}`;
        if (this.child === child) this.child = null;
        if (!this.stopping) {
          // An unplanned death is worth shouting about: a test will otherwise just time out.
          process.stderr.write(
            `[broker] mosquitto on port ${this.config.port} died unexpectedly (${exitInfo}). Log tail:\n${this.log.tail()}\n`,
          );
        }
        resolve();
      });
    });

    try {
      await waitForListening({
        host: '127.0.0.1',
        port: this.config.port,
        timeoutMs: READY_TIMEOUT_MS,
        abort: () => {
          if (spawnError) return spawnError;
          if (exitInfo) return new Error(`mosquitto exited during start-up (${exitInfo})`);
          return null;
        },
      });
    } catch (err) {
      this.stopping = true;
      if (this.child === child) await this.signal('SIGKILL');
      const addrInUse = /address already in use/i.test(this.log.tail());
      throw Object.assign(
        new BrokerError(
          'BROKER_START_FAILED',
          `mosquitto did not start on 127.0.0.1:${this.config.port}: ${(err as Error).message}. ` +
            `Log (${this.log.file}) tail:\n${this.log.tail()}`,
          { cause: err },
        ),
        { addrInUse },
      );
    }
    this.log.note(`mosquitto pid ${child.pid} listening on 127.0.0.1:${this.config.port}`);
  }

  /** SIGTERM: mosquitto closes clients and, with persistence, writes its database. */
  async stop(): Promise<void> {
    if (!this.child) return;
    this.stopping = true;
    const exited = await this.signal('SIGTERM', STOP_TIMEOUT_MS);
    if (!exited) {
      this.log.note(`mosquitto ignored SIGTERM for ${STOP_TIMEOUT_MS} ms; sending SIGKILL`);
      await this.kill();
    }
  }

  /** SIGKILL: a power cut for the broker; nothing is flushed. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.stopping = true;
    if (!(await this.signal('SIGKILL', STOP_TIMEOUT_MS))) {
      throw new BrokerError('BROKER_STOP_FAILED', `mosquitto pid ${this.child?.pid} survived SIGKILL`);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
  }

  private async signal(sig: NodeJS.Signals, timeoutMs = STOP_TIMEOUT_MS): Promise<boolean> {
    const child = this.child;
    if (!child) return true;
    child.kill(sig);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }
}
