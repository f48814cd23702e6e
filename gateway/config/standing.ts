import { formatProblem, type ConfigProblem } from './load.js';

/**
 * Whether the config that runs is the one on disk, for status, health and doctor. A reload that
 * was rejected, or a start that fell back to the last good config (last-good.ts), stays visible
 * here until a reload or restart accepts the files on disk: a technician who did not watch the
 * reload's answer still finds out before the next reboot.
 */
export interface ConfigStandingReport {
  /** `config-dir`: the files in the config directory; `last-good`: the saved copy, because those were rejected at start. */
  running: 'config-dir' | 'last-good';
  /** When the running config was last saved as the last good one (ISO 8601); null before the first save. */
  lastGoodSavedAt: string | null;
  /** The files on disk were rejected and are not what runs; null when they are. */
  rejected: {
    /** When this daemon first rejected them (ISO 8601); a further rejected edit keeps the date. */
    since: string;
    by: 'start' | 'reload';
    problems: number;
    /** The first problems as `file:line: key: message`. */
    first: string[];
  } | null;
}

const SHOWN_PROBLEMS = 5;

export class ConfigStanding {
  private state: ConfigStandingReport;

  constructor(running: ConfigStandingReport['running'] = 'config-dir', lastGoodSavedAt: string | null = null) {
    this.state = { running, lastGoodSavedAt, rejected: null };
  }

  reject(problems: ConfigProblem[], by: 'start' | 'reload', now = Date.now()): void {
    this.state.rejected = {
      since: this.state.rejected?.since ?? new Date(now).toISOString(),
      by: this.state.rejected?.by ?? by,
      problems: problems.length,
      first: problems.slice(0, SHOWN_PROBLEMS).map((p) => formatProblem(p).slice(0, 500)),
    };
  }

  /** The files on disk loaded and run now; `savedAt` when they were (or already had been) kept as the last good. */
  accept(savedAt: string | null): void {
    this.state = { running: 'config-dir', lastGoodSavedAt: savedAt ?? this.state.lastGoodSavedAt, rejected: null };
  }

  saved(at: string): void {
    this.state.lastGoodSavedAt = at;
  }

  report(): ConfigStandingReport {
    return { ...this.state, rejected: this.state.rejected && { ...this.state.rejected, first: [...this.state.rejected.first] } };
  }
}
