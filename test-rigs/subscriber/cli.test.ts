import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../broker/broker.js';

const repo = path.resolve(import.meta.dirname, '../..');
let outDir: string;
let cliJs: string;
let broker: BrokerFixture;

beforeAll(async () => {
  // Compiled on its own into node_modules/.cache so the CLI runs as shipped JS (and finds the
  // repo's node_modules) without touching the shared dist/ other engineers build into.
  const cache = path.join(repo, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  outDir = mkdtempSync(path.join(cache, 'subscriber-cli-'));
  await promisify(execFile)(
    path.join(repo, 'node_modules', '.bin', 'tsc'),
    // --ignoreConfig: TypeScript 7 refuses files on the command line next to a tsconfig.json (TS5112).
    ['--ignoreConfig', '--outDir', outDir, '--rootDir', repo, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--strict', '--skipLibCheck', '--types', 'node', path.join(repo, 'test-rigs/subscriber/cli.ts')],
    { cwd: repo },
  );
  cliJs = path.join(outDir, 'test-rigs/subscriber/cli.js');
  broker = await startBroker();
}, 120_000);

afterAll(async () => {
  await broker?.dispose();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

function run(args: string[]): { output: () => string; exited: Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, [cliJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Bounded: a hung CLI must not hang the suite.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exited.then(() => clearTimeout(guard));
  return { output: () => out, exited, kill: () => child.kill('SIGINT') };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('subscriber CLI', () => {
  it('prints running summaries with received count, gaps and duplicates, and exits 0 on SIGINT', async () => {
    const cli = run(['--url', broker.url, '--prefix', 'city', '--gateway', 'gw-cli', '--interval', '0.2', '--client-id', `cli-${Date.now()}`]);
    await until(() => cli.output().includes('connected'), 20_000, 'first summary line');
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const reading = (seq: number) => ({ seq, device: 'd', point: 'p', value: seq, quality: 'good', ts: 1_764_061_200_000 + seq }); // a redelivery is the same reading, byte for byte
    const send = (batch: string, seqs: number[]) =>
      pub.publishAsync(
        'city/gw-cli/telemetry',
        JSON.stringify({ v: 1, gateway: 'gw-cli', batch, firstSeq: seqs[0], lastSeq: seqs.at(-1), count: seqs.length, sentAt: Date.now(), readings: seqs.map(reading) }),
        { qos: 1 },
      );
    await send('b-1', [1, 2, 3]);
    await send('b-2', [3, 6]);
    await pub.endAsync();
    await until(() => /received=4 .*missing=2 \[4-5\] dup=1 reused=0/.test(cli.output()), 20_000, 'summary with the gap');
    cli.kill();
    expect(await cli.exited).toBe(0);
  });

  it('fails with a clear message and a non-zero exit when the broker is unreachable', async () => {
    const gone = await startBroker();
    await gone.dispose();
    const cli = run(['--url', gone.url, '--prefix', 'city', '--gateway', 'gw-cli']);
    expect(await cli.exited).toBe(2);
    expect(cli.output()).toContain(`CONNECT_FAILED: subscriber could not connect to ${gone.url}`);
  });

  it('rejects a bad --interval before connecting', async () => {
    const cli = run(['--url', broker.url, '--prefix', 'city', '--gateway', 'g', '--interval', 'soon']);
    expect(await cli.exited).not.toBe(0);
    expect(cli.output()).toContain('"soon" is not a positive number');
  });
});
