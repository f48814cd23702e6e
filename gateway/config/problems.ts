/**
 * What the config loader reports: each problem with file, line and key path, and a bound on how
 * many are described. A generated file with a problem on every line would otherwise answer a
 * reload with megabytes of JSON and hundreds of thousands of log lines; the first ones are what a
 * person fixes first anyway.
 */

export interface ConfigProblem {
  file: string;
  line: number | null;
  path: string;
  message: string;
  /** The file exists but this user may not read it: the advice is how to run, not what to edit. */
  permissionDenied?: boolean;
}

/** Problems described per load; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 100;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  /** Problems found, including those counted but not described in `problems`. */
  readonly total: number;
  constructor(
    readonly problems: ConfigProblem[],
    total?: number,
  ) {
    const all = total ?? problems.length;
    super(`${all} configuration problem(s):\n${problems.map(formatProblem).join('\n')}`);
    this.total = all;
  }

  /** Every problem is a file this user may not read: nothing in the config is known to be wrong. */
  get permissionDenied(): boolean {
    return this.problems.length > 0 && this.problems.every((p) => p.permissionDenied === true);
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** How to run a command as a user that can read the config (the packaged layout). */
export function permissionAdvice(command: string): string {
  return `this user cannot read the config (it is readable by root and the edge-gateway group only); run it as the service user: sudo -u edge-gateway edge-gateway ${command}, or as root`;
}

/** Collects problems, describing the first `max` and counting the rest. */
export class ProblemList {
  private readonly described: ConfigProblem[] = [];
  private omitted = 0;
  constructor(private readonly max = MAX_REPORTED_PROBLEMS) {}

  get length(): number {
    return this.described.length + this.omitted;
  }

  /** Further problems are only counted: callers skip the work of describing them. */
  get full(): boolean {
    return this.described.length >= this.max;
  }

  push(p: ConfigProblem): void {
    if (this.full) this.omitted++;
    else this.described.push(p);
  }

  count(n: number): void {
    this.omitted += n;
  }

  /** The error to throw: the described problems, then one line that says how many more. */
  error(where: string): ConfigError {
    const problems = [...this.described];
    if (this.omitted > 0) {
      problems.push({ file: where, line: null, path: '', message: `and ${this.omitted} more problem(s) not shown (the first ${this.max} are listed; fix them and check again)` });
    }
    return new ConfigError(problems, this.length);
  }
}
