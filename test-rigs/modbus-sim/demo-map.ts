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
  const float = Buffer.alloc(4);
  float.writeFloatBE(21.5 + unitId);
  bank.setRegisters('holding', 100, [float.readUInt16BE(0), float.readUInt16BE(2)]);
  bank.setRegisters('holding', 102, [0xe240, 0x0001]); // 123456 = 0x0001e240, low word first
  bank.setBits('coil', 0, [true, false, true, false]);
}
