import { describe, expect, it } from 'vitest';
import { opcuaDriver } from './module.js';
import { opcuaDeviceSchema } from './schema.js';

function device(writes: unknown[]) {
  return opcuaDeviceSchema.safeParse({ id: 'plc', type: 'opcua', endpointUrl: 'opc.tcp://plc:4840', items: [{ nodeId: 'ns=2;s=T', point: 't' }], writes });
}

function pointsOf(writes: unknown[]) {
  const parsed = device(writes);
  if (!parsed.success) throw new Error(parsed.error.message);
  return opcuaDriver.writablePoints(parsed.data);
}

const refusal = (dataType: string, value: number | boolean) => pointsOf([{ name: 'p', nodeId: 'ns=2;s=P', dataType }])[0]!.validate!({ action: 'write', value });

describe('opcua writable points', () => {
  it('declares writes with the shared policy and the node id forms of reads', () => {
    const [p, q] = pointsOf([
      { name: 'setpoint', nodeId: 'nsu=urn:plc;s=Setpoint', dataType: 'Int16', min: 5, max: 30 },
      { name: 'enable', nodeId: 'i=1001', dataType: 'Boolean', requireSignature: false },
    ]);
    expect(p).toMatchObject({ device: 'plc', actions: ['write'], valueType: 'number', policy: { name: 'setpoint', min: 5, max: 30, minInterval: 1000, readBack: true, requireSignature: true } });
    expect(q).toMatchObject({ valueType: 'boolean', policy: { requireSignature: false } });
    expect(device([]).success && device([]).data!.writes).toEqual([]);
  });

  it('refuses a bad declaration: unknown dataType, bad node id, duplicate name, unknown key', () => {
    expect(device([{ name: 'a', nodeId: 'ns=2;s=A', dataType: 'Int64' }]).success).toBe(false);
    expect(device([{ name: 'a', nodeId: 'Setpoint', dataType: 'Int16' }]).success).toBe(false);
    const dup = device([
      { name: 'a', nodeId: 'ns=2;s=A', dataType: 'Int16' },
      { name: 'a', nodeId: 'ns=2;s=B', dataType: 'Int16' },
    ]);
    expect(dup.success).toBe(false);
    expect(dup.error?.issues.map((i) => i.message)).toContain('duplicate writable point "a"');
    expect(device([{ name: 'a', nodeId: 'ns=2;s=A', dataType: 'Int16', address: 3 }]).success).toBe(false);
  });

  it('refuses values the dataType cannot hold exactly, before anything is sent', () => {
    expect(refusal('Int16', 32767)).toBeNull();
    expect(refusal('Int16', -32768)).toBeNull();
    expect(refusal('Int16', 32768)).toMatch(/^out-of-range: 32768 is outside Int16 \(-32768\.\.32767\)/);
    expect(refusal('Int16', 21.5)).toMatch(/^not-representable: 21.5 is not a whole number/);
    expect(refusal('UInt16', -1)).toMatch(/^out-of-range/);
    expect(refusal('UInt16', 65535)).toBeNull();
    expect(refusal('Int32', 2 ** 31)).toMatch(/^out-of-range/);
    expect(refusal('Int32', -(2 ** 31))).toBeNull();
    expect(refusal('UInt32', 2 ** 32 - 1)).toBeNull();
    expect(refusal('UInt32', 2 ** 32)).toMatch(/^out-of-range/);
    expect(refusal('Float', 3.4e38)).toBeNull();
    expect(refusal('Float', 3.5e38)).toMatch(/^out-of-range: 3\.5e\+38 is beyond Float/);
    expect(refusal('Float', 21.7)).toBeNull(); // held as the nearest float32, read back as 21.7
    expect(refusal('Double', 1e300)).toBeNull();
    expect(refusal('Int16', true)).toMatch(/^wrong-type: point "p" \(Int16\) takes a number/);
    expect(refusal('Boolean', 1)).toMatch(/^wrong-type: point "p" \(Boolean\) takes true or false/);
    expect(refusal('Boolean', false)).toBeNull();
  });
});
