import { driverModuleFor } from '../../../drivers/registry.js';
import type { WritablePoint } from '../../../drivers/writable-point.js';
import type { GatewayConfig } from '../../config/load.js';
import type { CheckResult } from './check.js';

/**
 * What the command channel could move on this box (docs/commands.md): whether it is on, which
 * points the device files declare writable (each family answers through its module, as the daemon
 * asks it), and whether commands must be signed. A technician sees at the cabinet what a command
 * centre, or anyone who can publish on the broker, is able to actuate.
 */
/** Every writable point of the enabled devices: what the daemon's DeviceTargets takes (disabled devices declare nothing). */
export function writablePointsOf(config: GatewayConfig): WritablePoint[] {
  return config.devices.filter((d) => d.enabled).flatMap((d) => driverModuleFor(d.type)?.writablePoints?.(d) ?? []);
}

function describePoint(p: WritablePoint, keysSet: boolean): string {
  const pol = p.policy;
  const bits = [
    p.actions.join('/'),
    ...(p.pulse ? [`pulse ${p.pulse.minMs}-${p.pulse.maxMs} ms`] : []),
    ...(pol.min !== undefined || pol.max !== undefined ? [`range ${pol.min ?? '-inf'}..${pol.max ?? 'inf'}`] : []),
    ...(pol.allowed ? [`allowed ${JSON.stringify(pol.allowed)}`] : []),
    `minInterval ${pol.minInterval} ms`,
    pol.readBack ? 'read back' : 'not read back',
    keysSet ? (pol.requireSignature ? 'signature required' : 'NO signature required') : 'unsigned',
    ...(pol.allowUnsyncedClock ? ['accepted with an unsynced clock'] : []),
  ];
  return `${p.device}/${pol.name}: ${bits.join(', ')}`;
}

export function checkCommands(config: GatewayConfig): CheckResult {
  const c = config.gateway.commands;
  const points = writablePointsOf(config);
  const keys = config.commandKeys;
  const keysSet = keys.length > 0;
  const base = { id: 'commands', title: 'command channel (what commands can move)' };
  const list = points.map((p) => `  ${describePoint(p, keysSet)}`);
  const declared = points.length === 0 ? 'no device declares a writable point' : `${points.length} writable point(s):\n${list.join('\n')}`;
  const topic = `${config.gateway.mqtt.topicPrefix}/${config.gateway.gateway.id}/commands`;

  if (!c.enabled) {
    if (points.length === 0) return { ...base, status: 'pass', detail: 'remote commands off (commands.enabled: false); no device declares a writable point' };
    return {
      ...base,
      status: 'warn',
      detail: `remote commands off (commands.enabled: false), but ${declared}\n(these can still be written by hand: edge-gateway write/pulse, group edge-gateway-actuate)`,
      advice: 'to let the command centre act on them, set commands.enabled: true in gateway.yaml and restart (systemctl restart edge-gateway); if nothing should move them, remove the writes/outputs from the device files',
    };
  }
  const keyText = keysSet ? `signatures checked with ${keys.length} key(s): ${keys.map((k) => k.id).join(', ')}` : 'commands.publicKeys not set: commands are not signed';
  const detail = `on: ${topic}; ${keyText}; ${declared}`;
  if (points.length === 0) {
    return { ...base, status: 'warn', detail, advice: 'every command will be rejected (not-declared): declare writes (Modbus, OPC-UA) or outputs (GPIO) in the device files, or set commands.enabled: false' };
  }
  if (!keysSet) {
    return {
      ...base,
      status: 'warn',
      detail,
      advice: `any broker account allowed to publish to ${topic} can move these points: set commands.publicKeys to the command centre's Ed25519 key (docs/commands.md, SECURITY.md), and restrict that topic in the broker's ACL`,
    };
  }
  return { ...base, status: 'pass', detail };
}
