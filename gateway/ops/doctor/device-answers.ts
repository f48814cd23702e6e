import type { DeviceAddress } from '../../../drivers/driver-module.js';
import { driverModuleFor, type DeviceConfig } from '../../../drivers/registry.js';
import { tcpConnect } from './broker.js';
import { errnoOf, type CheckResult } from './check.js';
import { openingsOf } from './device-openings.js';

/**
 * With the daemon stopped, each enabled device is asked directly whether it answers: by its
 * family's own check where it has one (Modbus TCP reads a register), otherwise by a TCP connect
 * to every address it opens. Never while the daemon runs: many devices accept one client only.
 */
export async function checkDeviceAnswers(devices: readonly DeviceConfig[], timeoutMs = 2000): Promise<CheckResult[]> {
  const checks = devices
    .filter((d) => d.enabled)
    .map(async (d): Promise<CheckResult[]> => {
      const family = driverModuleFor(d.type);
      if (family?.loadAnswerCheck) return [await (await family.loadAnswerCheck())(d, timeoutMs)];
      const addresses = openingsOf(d).filter((o): o is DeviceAddress => o.kind === 'tcp');
      const unique = [...new Map(addresses.map((a) => [`${a.host}:${a.port}`, a])).values()];
      return Promise.all(unique.map((a) => checkAddress(d.id, a, timeoutMs)));
    });
  return (await Promise.all(checks)).flat();
}

async function checkAddress(device: string, a: DeviceAddress, timeoutMs: number): Promise<CheckResult> {
  const base = { id: `address:${device}:${a.host}:${a.port}`, title: `${device}: ${a.what} ${a.host}:${a.port} accepts a connection (probed directly)` };
  try {
    await tcpConnect(a.host, a.port, timeoutMs);
    return { ...base, status: 'pass', detail: `TCP connect to ${a.host}:${a.port} ok` };
  } catch (err) {
    const code = errnoOf(err) ?? 'ERROR';
    const advice =
      code === 'ECONNREFUSED'
        ? `nothing listens on ${a.host}:${a.port}: is the device on, and is the port in devices/${device}.yaml right?`
        : `cannot reach ${a.host}:${a.port}: check cabling, switch and IP settings (ping ${a.host})`;
    return { ...base, status: 'fail', detail: `TCP connect to ${a.host}:${a.port} failed: ${code}`, advice };
  }
}
