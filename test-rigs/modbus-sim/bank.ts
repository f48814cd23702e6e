import type { ModbusTable } from '../../drivers/modbus/schema.js';

/**
 * The data of one simulated unit: four 65536-entry tables, of which only the first `size[table]`
 * addresses exist (reads past them answer ILLEGAL DATA ADDRESS, as real devices do), plus
 * dynamic registers whose values are a pure function of a step counter, so a test that steps
 * the clock by hand sees exactly the same values every run.
 *
 * Values go in as raw registers, never through the driver's encoder (drivers/modbus/encode.ts):
 * tests write the words a device would hold by hand (e.g. 21.5 as float32 ABCD = 0x41ac 0x0000),
 * so a fault in the driver's byte-order handling cannot cancel itself out.
 */

export type Dynamic =
  | { table: 'holding' | 'input'; address: number; kind: 'counter'; start?: number }
  | { table: 'holding' | 'input'; address: number; kind: 'sine'; periodSteps: number; amplitude: number; center?: number };

/**
 * Registers a recorded or generated trace fills at each step (e.g. test-rigs/traces/): it
 * writes raw words into the input table, like the dynamics, only from data instead of a formula.
 */
export interface RegisterSource {
  apply(step: number, input: Uint16Array): void;
}

export interface UnitOptions {
  /** Addresses that exist per table (default 65536: everything). */
  size?: Partial<Record<ModbusTable, number>>;
  dynamics?: Dynamic[];
  source?: RegisterSource;
}

export class UnitBank {
  readonly holding = new Uint16Array(65536);
  readonly input = new Uint16Array(65536);
  readonly coil = new Uint8Array(65536);
  readonly discrete = new Uint8Array(65536);
  private readonly size: Record<ModbusTable, number>;
  private readonly dynamics: Dynamic[];
  private readonly source: RegisterSource | undefined;
  private readonly clamps = new Map<number, number>();

  constructor(opts: UnitOptions = {}) {
    this.size = { holding: 65536, input: 65536, coil: 65536, discrete: 65536, ...opts.size };
    this.dynamics = opts.dynamics ?? [];
    this.source = opts.source;
    this.applyStep(0);
  }

  exists(table: ModbusTable, address: number, count: number): boolean {
    return address + count <= this.size[table];
  }

  setRegisters(table: 'holding' | 'input', address: number, words: readonly number[]): void {
    words.forEach((w, i) => (this[table][address + i] = w & 0xffff));
  }

  /**
   * Make a holding register behave like a controller that limits its setpoint: a written word
   * above `maxWord` (unsigned compare) is stored as `maxWord`. For read-back tests.
   */
  clampHolding(address: number, maxWord: number): void {
    this.clamps.set(address, maxWord);
  }

  /** Called by the PDU handlers after a write to holding registers. */
  afterHoldingWrite(address: number, count: number): void {
    for (let a = address; a < address + count; a++) {
      const max = this.clamps.get(a);
      if (max !== undefined && this.holding[a]! > max) this.holding[a] = max;
    }
  }

  setBits(table: 'coil' | 'discrete', address: number, bits: readonly boolean[]): void {
    bits.forEach((b, i) => (this[table][address + i] = b ? 1 : 0));
  }

  applyStep(step: number): void {
    for (const d of this.dynamics) {
      const v =
        d.kind === 'counter'
          ? (d.start ?? 0) + step
          : Math.round((d.center ?? 0) + d.amplitude * Math.sin((2 * Math.PI * step) / d.periodSteps));
      this[d.table][d.address] = v & 0xffff;
    }
    this.source?.apply(step, this.input);
  }
}
