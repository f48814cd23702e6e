import { userInfo } from 'node:os';
import { lastGoodQuietly } from '../config/last-good.js';
import { checkBrokers } from './doctor/broker.js';
import type { CheckResult, CheckStatus } from './doctor/check.js';
import { checkClock } from './doctor/clock.js';
import { checkCommands } from './doctor/commands.js';
import { checkConfig } from './doctor/config-check.js';
import { checkDaemon } from './doctor/daemon.js';
import { checkDeviceAnswers } from './doctor/device-answers.js';
import { devicePaths, checkDevicePaths } from './doctor/device-paths.js';
import { checkDisk } from './doctor/disk.js';
import { checkOutboxFile } from './doctor/outbox-file.js';
import { DEFAULT_CONTROL_SOCKET } from './socket-path.js';
import { jsonForTerminal, styleFor, terminalSafe, type Style } from './terminal.js';
import { formatVersion, versionInfo, type VersionInfo } from '../version.js';

/**
 * `edge-gateway doctor`: the checks a technician would otherwise do by hand at the cabinet, as a
 * pass/warn/fail list with what to do about each problem. Exit 1 if anything failed. Read-only
 * throughout: it never opens a port or the outbox for writing, and never touches the daemon's
 * MQTT session, so it is safe to run next to a live gateway.
 */

export interface DoctorOptions {
  config: string;
  socket?: string;
  json?: boolean;
  /** With the daemon stopped, ask each device directly whether it answers (default on). */
  probe?: boolean;
  brokerTimeoutMs?: number;
}

export interface DoctorReport {
  user: string;
  /** The installed edge-gateway doctor belongs to (the running daemon's is in the daemon check). */
  version: VersionInfo;
  checks: CheckResult[];
  failures: number;
  warnings: number;
}

export async function runDoctorChecks(opts: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const { result, config } = checkConfig(opts.config);
  checks.push(...result);
  if (config) {
    if (devicePaths(config.devices).length > 0) checks.push(...checkDevicePaths(config.devices));
    checks.push(...(await checkBrokers(config, { timeoutMs: opts.brokerTimeoutMs })));
    checks.push(checkClock(config));
    checks.push(checkCommands(config));
    checks.push(checkDisk(config));
    checks.push(checkOutboxFile(config));
  }
  // With the files on disk broken, the daemon may be running its last good config: reach it there.
  const running = config ?? lastGoodQuietly(opts.config);
  const socket = opts.socket ?? running?.gateway.control.socket ?? DEFAULT_CONTROL_SOCKET;
  const daemon = await checkDaemon(socket, running?.gateway.outbox.path, config !== null);
  checks.push(...daemon.results);
  if (config && !daemon.running) {
    if (opts.probe === false) {
      checks.push({ id: 'devices', title: 'devices answer', status: 'skip', detail: 'not probed (--no-probe)' });
    } else {
      checks.push(...(await checkDeviceAnswers(config.devices)));
    }
  }
  return {
    user: userInfo().username,
    version: versionInfo(),
    checks,
    failures: checks.filter((c) => c.status === 'fail').length,
    warnings: checks.filter((c) => c.status === 'warn').length,
  };
}

const MARK: Record<CheckStatus, [string, 'green' | 'yellow' | 'red' | 'gray']> = {
  pass: ['PASS', 'green'],
  warn: ['WARN', 'yellow'],
  fail: ['FAIL', 'red'],
  skip: ['SKIP', 'gray'],
};

export function renderDoctor(report: DoctorReport, style: Style): string {
  const lines: string[] = [style.paint('dim', formatVersion(report.version))];
  for (const c of report.checks) {
    const [word, colour] = MARK[c.status];
    lines.push(`${style.paint(colour, word)}  ${c.title}`);
    for (const d of c.detail.split('\n')) lines.push(`      ${d}`);
    if (c.advice && c.status !== 'pass') lines.push(`      ${style.paint('bold', '→')} ${c.advice}`);
  }
  lines.push('');
  const summary = `${report.checks.length} check(s) as user ${report.user}: ${report.failures} failed, ${report.warnings} warning(s)`;
  lines.push(report.failures > 0 ? style.paint('red', summary) : report.warnings > 0 ? style.paint('yellow', summary) : style.paint('green', summary));
  return `${lines.join('\n')}\n`;
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const report = await runDoctorChecks(opts);
  // Details quote device replies and broker errors: escaped, but doctor's own line breaks kept.
  process.stdout.write(opts.json ? `${jsonForTerminal(report, 2)}\n` : renderDoctor(terminalSafe(report, { keepLineBreaks: true }), styleFor(process.stdout)));
  return report.failures > 0 ? 1 : 0;
}
