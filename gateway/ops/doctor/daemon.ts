import { ControlUnavailableError, request } from '../../control/client.js';
import type { StatusAnswer } from '../status.js';
import { troubleCounters } from '../status.js';
import type { CheckResult } from './check.js';

/**
 * Is the daemon up (its control socket answers), and how is each device doing by its own
 * account? Returns `running: false` when nobody answers, so doctor can probe devices directly.
 */
export async function checkDaemon(socket: string): Promise<{ running: boolean; results: CheckResult[] }> {
  const base = { id: 'daemon', title: 'gateway daemon running' };
  let answer: StatusAnswer;
  try {
    answer = await request<StatusAnswer>(socket, { cmd: 'status' }, 5000);
  } catch (err) {
    const message = err instanceof ControlUnavailableError ? err.message : `no usable answer on ${socket}: ${(err as Error).message}`;
    const denied = /permission denied/.test(message);
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

  const results: CheckResult[] = [{ ...base, status: 'pass', detail: `answering on ${socket}; up ${answer.uptimeS}s, ${answer.outbox.pendingReadings} reading(s) queued` }];
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
