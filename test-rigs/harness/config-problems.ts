import { ConfigError, formatProblem, loadConfig } from '../../gateway/config/load.js';

/** Every problem loadConfig finds in `dir`, formatted as a maintainer sees it; [] when it loads. */
export function configProblems(dir: string): string[] {
  try {
    loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}
