import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Each scenario appends one NDJSON line of figures, so a run of `npm run torture` leaves the
 * numbers docs/reliability.md quotes. TORTURE_FIGURES overrides where they go.
 */
export interface ScenarioFigures {
  scenario: string;
  profile: 'short' | 'long';
  /** Distinct readings the subscriber received (each committed seq once). */
  readings: number;
  /** Committed seqs that never arrived and were not declared dropped: must be 0. */
  lost: number;
  /** Duplicates with identical content (at-least-once redelivery). */
  duplicates: number;
  /** Seqs that arrived again with different content, over every outbox seen: must be 0. */
  reused: number;
  /** Outbox ids the subscriber saw; more than one without a quarantine is a silent new seq space. */
  outboxIds: number;
  /** Seqs the gateway declared dropped (retention), so not counted as lost. */
  declaredDropped: number;
  interruptions: number;
  durationS: number;
  [extra: string]: unknown;
}

// One file per user: /tmp is shared, and a file another user (root) made there is not writable.
export const FIGURES_FILE = process.env.TORTURE_FIGURES ?? join(tmpdir(), `edge-gw-torture-figures-${process.getuid?.() ?? 'any'}.ndjson`);

export function recordFigures(f: ScenarioFigures): void {
  const line = JSON.stringify({ ...f, date: new Date().toISOString() });
  appendFileSync(FIGURES_FILE, `${line}\n`);
  process.stderr.write(`[torture] ${line}\n`);
}
