import { afterEach, describe, expect, it } from 'vitest';
import { startModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { openModbusTcp } from './connection.js';
import { decodeEveryWay, implausibility, probeModbus, ProbeOptionsError } from './probe.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(unknownUnit: 'silence' | 'gateway-exception') {
  const sim = await startModbusTcpSimulator({ units: { 1: {}, 3: { size: { holding: 5 } } }, unknownUnit, clock: 'manual' });
  cleanups.push(() => sim.stop());
  sim.unit(1).setRegisters('holding', 10, [0x0000, 0xc03f]); // 1.5 as float32 DCBA (0x3fc00000 byte-reversed)
  sim.unit(1).setBits('coil', 2, [true]);
  const link = await openModbusTcp(sim.host, sim.port, 1000);
  cleanups.push(() => link.close());
  return { sim, link };
}

describe('probeModbus', () => {
  it('finds answering units over the daemon\'s own TCP transport and decodes registers every way', async () => {
    const { link } = await setup('silence');
    const res = await probeModbus({ link, unitRange: { from: 1, to: 4 }, table: 'holding', address: 10, count: 2, timeoutMs: 150 });
    expect(res.absent).toEqual([
      { unitId: 2, code: 'ETIMEDOUT' },
      { unitId: 4, code: 'ETIMEDOUT' },
    ]);
    expect(res.answered.map((u) => [u.unitId, u.status])).toEqual([
      [1, 'data'],
      [3, 'exception'],
    ]);
    const unit1 = res.answered[0]!;
    if (!('registers' in unit1)) throw new Error('expected registers for unit 1');
    expect(unit1.registers).toEqual([0x0000, 0xc03f]);
    const floats = unit1.decodings.filter((d) => d.type === 'float32' && d.value === 1.5);
    expect(floats).toEqual([{ address: 10, type: 'float32', byteOrder: 'little', wordOrder: 'little', order: 'DCBA', value: 1.5 }]);
    // The other orders of these bytes are denormals or absurd: marked, so nobody picks them.
    const others = unit1.decodings.filter((d) => d.type === 'float32' && d.order !== 'DCBA');
    expect(others.map((d) => d.implausible)).toEqual(expect.arrayContaining([expect.any(String)]));
    // 2 registers: uint16/int16 x 2 byte orders at each offset, plus 3 wide types x 4 orders at offset 0
    expect(unit1.decodings).toHaveLength(2 * 4 + 3 * 4);
    expect(res.answered[1]).toMatchObject({ status: 'exception', error: { code: 'MODBUS_EXCEPTION_2' } });
  });

  it('treats gateway exceptions as absent units and reads bit tables', async () => {
    const { link } = await setup('gateway-exception');
    const res = await probeModbus({ link, unitRange: [1, 2], table: 'coil', address: 0, count: 4 });
    expect(res.answered).toEqual([{ unitId: 1, status: 'data', bits: [false, false, true, false] }]);
    expect(res.absent).toEqual([{ unitId: 2, code: 'MODBUS_EXCEPTION_11' }]);
  });

  it('rejects impossible requests before touching the bus', async () => {
    const { link, sim } = await setup('silence');
    await expect(probeModbus({ link, unitRange: [1], table: 'holding', address: 0, count: 126 })).rejects.toThrow(ProbeOptionsError);
    await expect(probeModbus({ link, unitRange: { from: 250, to: 256 }, table: 'holding', address: 0, count: 1 })).rejects.toThrow(/unit id 256/);
    expect(sim.stats.requests).toBe(0);
  });
});

describe('implausibility', () => {
  it('flags NaN, infinities, denormals and absurd magnitudes, and leaves ordinary readings alone', () => {
    expect(implausibility('float32', NaN)).toBe('NaN');
    expect(implausibility('float32', -Infinity)).toBe('-Infinity');
    expect(implausibility('float32', 1e-40)).toBe('denormal');
    expect(implausibility('float64', 1e-40)).toBe('tiny');
    expect(implausibility('float64', 1e-310)).toBe('denormal');
    expect(implausibility('float32', 2309426042730709000)).toBe('huge');
    for (const ok of [0, 21.5, -40, 0.001, 123456789, 4.2e9]) expect(implausibility('float32', ok), String(ok)).toBeUndefined();
  });

  it('tells NaN from Infinity in the bytes, though both decode to null', () => {
    const d = decodeEveryWay([0x7fc0, 0x0000, 0x7f80, 0x0000], 0).filter((x) => x.type === 'float32' && x.order === 'ABCD');
    expect(d.map((x) => [x.address, x.value, x.implausible])).toEqual([
      [0, null, 'NaN'],
      [1, expect.closeTo(4.57e-41, 43), 'denormal'], // 0x0000 0x7f80
      [2, null, 'Infinity'],
    ]);
  });
});
