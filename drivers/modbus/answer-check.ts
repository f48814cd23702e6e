import { classifyModbusError, type ModbusError } from './errors.js';
import { blockOf } from './pdu/response.js';
import { registerWidth } from './schema.js';
import { openModbusTcp, type ModbusLink } from './connection.js';
import type { DeviceCheckResult as CheckResult } from '../driver-module.js';
import type { ModbusTcpDevice } from './schema.js';

type ModbusTcpConfig = ModbusTcpDevice;

/**
 * With the daemon stopped, "does each device answer?" is asked directly: connect and read the
 * first register of the device's map once. Never while the daemon runs — many Modbus TCP devices
 * accept a single connection, and a probe would knock the daemon off.
 */
export async function checkModbusTcpAnswers(d: ModbusTcpConfig, timeoutMs: number): Promise<CheckResult> {
  return probeOne(d, Math.min(timeoutMs, d.timeoutMs * 2));
}

async function probeOne(d: ModbusTcpConfig, timeoutMs: number): Promise<CheckResult> {
  const first = d.registers[0]!;
  const count = registerWidth(first.type);
  const what = `${first.table} ${first.address}${count > 1 ? `+${count}` : ''} (${first.name}) from unit ${d.unitId}`;
  const base = { id: `device:${d.id}`, title: `device ${d.id} answers (modbus-tcp ${d.host}:${d.port}, probed directly)` };
  const stop = new AbortController();
  let link: ModbusLink | undefined;
  try {
    link = await openModbusTcp(d.host, d.port, timeoutMs, stop.signal);
    const data = blockOf(first.table, count, await link.read(d.unitId, first.table, first.address, count, timeoutMs, stop.signal));
    return { ...base, status: 'pass', detail: `read ${what}: ${data.map((v) => (typeof v === 'boolean' ? String(v) : `0x${v.toString(16).padStart(4, '0')}`)).join(' ')}` };
  } catch (err) {
    const e = classifyModbusError(err, `read ${what}`) as ModbusError;
    return { ...base, status: 'fail', detail: `${e.code}: ${e.message}`, advice: adviceFor(e, d) };
  } finally {
    stop.abort();
    await link?.close();
  }
}

function adviceFor(e: ModbusError, d: ModbusTcpConfig): string {
  if (e.kind === 'exception') {
    return e.exceptionCode === 2
      ? `the device answers but has no register ${d.registers[0]!.address}: check addresses in devices/${d.id}.yaml (0-based vs 1-based / 40001 numbering)`
      : e.exceptionCode === 10 || e.exceptionCode === 11
        ? `the TCP gateway answers but unit ${d.unitId} behind it does not: check the unit id and the serial side`
        : 'the device answers but refuses the read: check the table and function code it supports';
  }
  if (e.kind === 'timeout') return `connected, but unit ${d.unitId} did not answer: check the unit id and that the device is powered`;
  if (e.code === 'ECONNREFUSED') return `nothing listens on ${d.host}:${d.port}: is the device on and is Modbus TCP enabled on that port?`;
  return `cannot reach ${d.host}:${d.port}: check cabling, switch and IP settings (ping ${d.host})`;
}
