import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_COMMIT_INTERVAL_MS } from '../gateway/config/gateway-schema.js';
import { ConfigError, loadConfigAsync, MAX_CONFIG_FILE_BYTES, MAX_CONFIG_TOTAL_BYTES } from '../gateway/config/load.js';

/**
 * What a reload of the largest config the loader accepts costs a running daemon: the longest gap
 * between group-commit ticks (a timer at the default commit window, as the daemon's) while
 * `loadConfigAsync` reads it. The loader yields between files, so the gap is about one window
 * plus the longest single file's parse and validation. Two shapes fill the total budget with
 * files at the per-file cap: valid register maps, and files of unknown keys (a problem per line).
 *
 * `node dist/bench/config-reload.js` prints the figures as JSON.
 */

export type ConfigShape = 'registers' | 'unknown-keys';

export interface ConfigReloadFigures {
  shape: ConfigShape;
  files: number;
  totalBytes: number;
  loadMs: number;
  ticksDuringLoad: number;
  longestCommitGapMs: number;
  /** The same timer's longest gap with no load running, over as long a stretch: the machine's own noise. */
  idleLongestGapMs: number;
  commitWindowMs: number;
  outcome: string;
}

const GATEWAY_YAML = 'gateway:\n  id: bench-gw\nmqtt:\n  urls: [mqtt://127.0.0.1:1883]\noutbox:\n  path: ./outbox.db\n';

/** One device file of at most `bytes`, of the given shape. */
export function deviceFileOf(shape: ConfigShape, bytes: number): string {
  const lines = ['type: modbus-tcp\nhost: 127.0.0.1\nport: 502\nunitId: 1\nintervalMs: 1000\nregisters:\n  - { name: a, address: 0, type: uint16 }\n'];
  let size = lines[0]!.length;
  for (let i = 1; ; i++) {
    const line = shape === 'registers' ? `  - { name: r${i}.value, address: ${i % 60_000}, type: float32, unit: kWh, scale: 0.1 }\n` : `unknown_key_${i}: ${i}\n`;
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

/** A config directory at the loader's limits: as many device files at the per-file cap as the total allows. */
export function largestConfigDir(shape: ConfigShape): { dir: string; files: number; totalBytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'config-reload-'));
  writeFileSync(join(dir, 'gateway.yaml'), GATEWAY_YAML);
  mkdirSync(join(dir, 'devices'));
  const body = deviceFileOf(shape, MAX_CONFIG_FILE_BYTES);
  const files = Math.floor((MAX_CONFIG_TOTAL_BYTES - GATEWAY_YAML.length) / Buffer.byteLength(body));
  for (let i = 0; i < files; i++) writeFileSync(join(dir, 'devices', `d${String(i).padStart(3, '0')}.yaml`), body);
  return { dir, files, totalBytes: GATEWAY_YAML.length + files * Buffer.byteLength(body) };
}

/** Longest gap between consecutive ticks within [from, to], counting the ticks just outside it. */
function longestGap(ticks: readonly number[], from: number, to: number): number {
  const inside = ticks.filter((t) => t > from && t < to);
  const edges = [ticks.filter((t) => t <= from).at(-1) ?? from, ...inside, ticks.find((t) => t >= to) ?? to];
  let longest = 0;
  for (let i = 1; i < edges.length; i++) longest = Math.max(longest, edges[i]! - edges[i - 1]!);
  return longest;
}

/**
 * Reload the largest config once while a commit-window timer ticks: the longest gap between ticks
 * during the load, and (as a control for a busy machine) the longest gap over an equally long
 * stretch with no load running.
 */
export async function measureConfigReload(shape: ConfigShape, commitWindowMs = DEFAULT_COMMIT_INTERVAL_MS): Promise<ConfigReloadFigures> {
  const { dir, files, totalBytes } = largestConfigDir(shape);
  try {
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), commitWindowMs);
    // Let the timer settle into its rhythm before the load starts.
    await new Promise((r) => setTimeout(r, commitWindowMs * 3));
    const t0 = performance.now();
    let outcome: string;
    try {
      const config = await loadConfigAsync(dir);
      outcome = `valid, ${config.devices.length} device(s)`;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      outcome = `invalid, ${err.total} problem(s), ${err.problems.length} described`;
    }
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, t1 - t0 + commitWindowMs * 2));
    const t2 = performance.now();
    clearInterval(timer);
    return {
      shape,
      files,
      totalBytes,
      loadMs: t1 - t0,
      ticksDuringLoad: ticks.filter((t) => t > t0 && t < t1).length,
      longestCommitGapMs: longestGap(ticks, t0, t1),
      idleLongestGapMs: longestGap(ticks, t1 + commitWindowMs, t2 - commitWindowMs),
      commitWindowMs,
      outcome,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out: ConfigReloadFigures[] = [];
  for (const shape of ['registers', 'unknown-keys'] as const) for (let run = 0; run < 3; run++) out.push(await measureConfigReload(shape));
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
