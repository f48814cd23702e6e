import { ConfigError, formatProblem, loadConfig, type GatewayConfig } from '../../config/load.js';
import type { CheckResult } from './check.js';

/** The config is checked first: every later check reads its paths, URLs and limits from it. */
export function checkConfig(dir: string): { result: CheckResult[]; config: GatewayConfig | null } {
  try {
    const config = loadConfig(dir);
    const result: CheckResult[] = [
      {
        id: 'config',
        title: 'configuration valid',
        status: 'pass',
        detail: `${config.dir}: gateway ${config.gateway.gateway.id}, ${config.devices.length} device(s) (${config.devices.filter((d) => d.enabled).length} enabled)`,
      },
    ];
    for (const w of config.warnings) {
      result.push({ id: `config-warning:${w.file}:${w.line ?? ''}`, title: 'configuration warning', status: 'warn', detail: formatProblem(w), advice: w.message });
    }
    return { result, config };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      config: null,
      result: [
        {
          id: 'config',
          title: 'configuration valid',
          status: 'fail',
          detail: err.problems.map(formatProblem).join('\n'),
          advice: `fix the ${err.problems.length} problem(s) above (file:line: key: message), then run "edge-gateway check-config ${dir}"; the remaining checks need a valid config`,
        },
      ],
    };
  }
}
