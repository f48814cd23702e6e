import { ConfigError, formatProblem, loadConfig, permissionAdvice, type GatewayConfig } from '../../config/load.js';
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
    if (err.permissionDenied) {
      return {
        config: null,
        result: [
          {
            id: 'config',
            title: 'configuration readable',
            status: 'fail',
            detail: `permission denied: not checked\n${err.problems.map(formatProblem).join('\n')}`,
            advice: `${permissionAdvice(`doctor --config ${dir}`)}; the remaining checks need the config`,
          },
        ],
      };
    }
    return {
      config: null,
      result: [
        {
          id: 'config',
          title: 'configuration valid',
          status: 'fail',
          detail: err.problems.map(formatProblem).join('\n'),
          advice: `${err.problems.some((p) => p.permissionDenied) ? `some files could not be read (${permissionAdvice(`doctor --config ${dir}`)}); ` : ''}fix the ${err.total} problem(s) above (file:line: key: message), then run "edge-gateway check-config ${dir}"; the remaining checks need a valid config`,
        },
      ],
    };
  }
}
