import type { UnitBank, UnitOptions } from './bank.js';

/**
 * The register map the standalone simulator serves, matching config/examples for modbus-tcp:
 *   holding 0       uint16  counter (+1 per step)
 *   input   0       int16   sine, ±1000 around 0 (scale 0.01 gives ±10.0)
 *   holding 100-101 float32 21.5 + unit id (big/big)
 *   holding 102-103 uint32  123456 (word order little)
 *   coil    0..3    alternating true/false
 */
export function demoUnitOptions(): UnitOptions {
  return {
    dynamics: [
      { table: 'holding', address: 0, kind: 'counter' },
      { table: 'input', address: 0, kind: 'sine', periodSteps: 60, amplitude: 1000 },
    ],
  };
}

export function fillDemoValues(bank: UnitBank, unitId: number): void {
  bank.setValue('holding', 100, { type: 'float32', byteOrder: 'big', wordOrder: 'big' }, 21.5 + unitId);
  bank.setValue('holding', 102, { type: 'uint32', byteOrder: 'big', wordOrder: 'little' }, 123456);
  bank.setBits('coil', 0, [true, false, true, false]);
}
