import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof) into the functions that spent the most self
 * time: the evidence for "what bounded it". Idle time is excluded from the shares.
 */
export interface ProfileEntry {
  /** `function (file:line)`; V8's pseudo-frames appear as `(garbage collector)`, `(program)`. */
  frame: string;
  /** Share of the busy (non-idle) samples, 0..1. */
  share: number;
}

export interface ProfileSummary {
  busySamples: number;
  /** All samples: busy / total is how much of the time the main thread was working. */
  totalSamples: number;
  top: ProfileEntry[];
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
}

export function summariseProfile(profile: CpuProfile, topN = 12): ProfileSummary {
  const frameOf = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    frameOf.set(n.id, url ? `${name} (${shortUrl(url)}:${lineNumber + 1})` : name);
  }
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const frame = frameOf.get(id) ?? '(unknown)';
    if (frame === '(idle)') continue;
    busy++;
    counts.set(frame, (counts.get(frame) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([frame, n]) => ({ frame, share: busy === 0 ? 0 : n / busy }));
  return { busySamples: busy, totalSamples: profile.samples.length, top };
}

/** node_modules/<pkg>/... or the path below dist/, so frames stay readable. */
function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url) ?? /\/dist\/(.*)$/.exec(url);
  return m ? m[1]! : url.startsWith('node:') ? url : basename(url);
}

/** The one profile a daemon wrote into `dir` on exit, summarised. */
export function summariseProfileDir(dir: string, topN = 12): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: did the daemon exit cleanly?`);
  return summariseProfile(JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as CpuProfile, topN);
}
