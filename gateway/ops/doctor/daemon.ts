import { ControlUnavailableError, request } from '../../control/client.js';
import type { StatusAnswer } from '../status.js';
import { troubleCounters } from '../status.js';
import type { CheckResult } from './check.js';
import { describeHolder, processAlive, readHolder } from '../../outbox/lock.js';
import { versionInfo } from '../../version.js';

/**
 * Is the daemon up (its control socket answers), and how is each device doing by its own
 * account? Returns `running: false` when nobody answers, so doctor can probe devices directly.
 * A daemon that holds the outbox lock but whose socket does not answer (run by hand without
 * /run/edge-gateway) counts as running: its devices' ports are in use.
 */
export async function checkDaemon(socket: string, outboxPath?: string, configOnDiskValid = false): Promise<{ running: boolean; results: CheckResult[] }> {
  const base = { id: 'daemon', title: 'gateway daemon running' };
  let answer: StatusAnswer;
  try {
    answer = await request<StatusAnswer>(socket, { cmd: 'status' }, 5000);
  } catch (err) {
    const message = err instanceof ControlUnavailableError ? err.message : `no usable answer on ${socket}: ${(err as Error).message}`;
    const denied = /permission denied/.test(message);
    const holder = outboxPath ? readHolder(outboxPath) : null;
    if (holder && processAlive(holder.pid)) {
      return {
        running: true,
        results: [
          {
            ...base,
            status: 'warn',
            detail: `running without an answering control socket: the outbox lock is ${describeHolder(holder)}; ${message}`,
            advice: denied ? 'run doctor as root (sudo), or as a member of the edge-gateway-ops group for the socket' : 'status, tail and reload need its control socket: stop it and start the service (systemctl start edge-gateway), or see the advice above',
          },
        ],
      };
    }
    return {
      running: false,
      results: [
        {
          ...base,
          status: 'fail',
          detail: message,
          advice: denied ? 'run doctor as root (sudo), or as a member of the edge-gateway-ops group for the socket' : 'start it (systemctl start edge-gateway) and read why it stopped: journalctl -u edge-gateway -n 50',
        },
      ],
    };
  }
  if ('starting' in answer) return { running: true, results: [{ ...base, status: 'warn', detail: 'answering, still starting', advice: 'run doctor again in a few seconds' }] };

  const results: CheckResult[] = [{ ...base, status: 'pass', detail: `answering on ${socket}; up ${answer.uptimeS}s, ${answer.outbox.pendingReadings} reading(s) queued${answer.version ? `; edge-gateway ${answer.version.package} on Node.js ${answer.version.node}` : ''}` }];
  const installed = versionInfo().package;
  // After an upgrade whose scripts could not restart it (no systemd), the old code keeps running.
  if (answer.version?.package !== installed) {
    results.push({
      id: 'daemon-version',
      title: 'running daemon is the installed version',
      status: 'warn',
      detail: `the daemon runs ${answer.version?.package ?? 'a version from before versions were reported'}, the installed edge-gateway is ${installed}`,
      advice: 'restart it so the installed code runs: systemctl restart edge-gateway (or stop and start the hand-run daemon)',
    });
  }
  if (answer.config?.rejected) {
    const r = answer.config.rejected;
    const runs = answer.config.running === 'last-good' ? `the LAST GOOD config saved ${answer.config.lastGoodSavedAt}` : 'the previous config';
    results.push(
      configOnDiskValid
        ? {
            id: 'daemon-config',
            title: 'running config is the one on disk',
            status: 'warn',
            detail: `the daemon rejected the files on disk (at ${r.by}, since ${r.since}) and runs ${runs}; they are valid now, but not loaded yet`,
            advice: 'edge-gateway reload: the daemon then runs the files on disk and keeps them as the last good config',
          }
        : {
            id: 'daemon-config',
            title: 'running config is the one on disk',
            status: 'fail',
            detail: `the files on disk were rejected (at ${r.by}, since ${r.since}); running ${runs}:\n${r.first.join('\n')}`,
            advice: 'fix the files (see the config check above), then edge-gateway reload; until then a restart runs the last good config',
          },
    );
  }
  for (const [id, d] of Object.entries(answer.devices).sort(([a], [b]) => a.localeCompare(b))) {
    const trouble = troubleCounters(d.counters).map(([k, n]) => `${k}=${n}`).join(' ');
    const err = d.lastError ? `; last error ${d.lastError.code}: ${d.lastError.message}` : '';
    const detail = `${d.type}, state ${d.state}${trouble ? `, ${trouble}` : ''}${err}`;
    const status = d.state === 'ok' ? 'pass' : d.state === 'down' ? 'fail' : 'warn';
    results.push({
      id: `device:${id}`,
      title: `device ${id} answers`,
      status,
      detail,
      advice: status === 'pass' ? undefined : `check the device's power, wiring/network and its settings in devices/${id}.yaml; watch it with: edge-gateway tail --device ${id}`,
    });
  }
  return { running: true, results };
}
