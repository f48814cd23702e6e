import { shortestFloat32 } from '../kit/float32.js';
import type { WritablePoint, WriteRequest } from '../writable-point.js';
import type { OpcuaWriteConfig } from './schema.js';

/**
 * What a command's value becomes on an OPC-UA variable: the same value, sent as the declared
 * DataType, or a refusal when that type cannot hold it exactly. An OPC-UA server would take 21.5
 * for an Int16 only by rounding it somewhere, and 40000 only by wrapping it; neither is what the
 * command centre asked for, so the gateway refuses instead (docs/commands.md, "Value").
 * Free of node-opcua, so the command channel's checks and check-config can use it.
 */
const INT_RANGES: Partial<Record<OpcuaWriteConfig['dataType'], [number, number]>> = {
  Int16: [-0x8000, 0x7fff],
  UInt16: [0, 0xffff],
  Int32: [-0x80000000, 0x7fffffff],
  UInt32: [0, 0xffffffff],
};
const FLOAT32_MAX = 3.4028234663852886e38;

/** The value to send, or why the variable cannot hold `value` exactly ("code: message"). */
export function opcuaValueFor(w: OpcuaWriteConfig, value: number | boolean): number | boolean | string {
  if (w.dataType === 'Boolean') return typeof value === 'boolean' ? value : `wrong-type: point "${w.name}" (Boolean) takes true or false`;
  if (typeof value !== 'number') return `wrong-type: point "${w.name}" (${w.dataType}) takes a number`;
  if (!Number.isFinite(value)) return `not-representable: ${value} for ${w.dataType} point "${w.name}"`;
  const range = INT_RANGES[w.dataType];
  if (range) {
    if (!Number.isInteger(value)) return `not-representable: ${value} is not a whole number, as ${w.dataType} point "${w.name}" needs`;
    if (value < range[0] || value > range[1]) return `out-of-range: ${value} is outside ${w.dataType} (${range[0]}..${range[1]}) for point "${w.name}"`;
    return value;
  }
  if (w.dataType === 'Float' && Math.abs(value) > FLOAT32_MAX) return `out-of-range: ${value} is beyond Float (float32) for point "${w.name}"`;
  return value;
}

/**
 * What a read of the variable shows after `sent` was written: a Float holds the nearest float32,
 * reported (as every Float reading is, value.ts) as its shortest decimal.
 */
export function expectedReadBack(w: OpcuaWriteConfig, sent: number | boolean): number | boolean {
  return w.dataType === 'Float' && typeof sent === 'number' ? shortestFloat32(Math.fround(sent)) : sent;
}

/** The writable variables an OPC-UA device file declares, for the command channel. */
export function opcuaWritablePoints(deviceId: string, writes: readonly OpcuaWriteConfig[]): WritablePoint[] {
  return writes.map((w) => ({
    device: deviceId,
    policy: w,
    actions: ['write'],
    valueType: w.dataType === 'Boolean' ? 'boolean' : 'number',
    validate: (r: WriteRequest) => {
      if (r.action !== 'write') return null;
      const v = opcuaValueFor(w, r.value);
      return typeof v === 'string' ? v : null;
    },
  }));
}
