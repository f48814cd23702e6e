import { createPtyPair, type PtyPair } from '../serial/pty.js';
import type { UnitOptions } from '../modbus-sim/bank.js';
import { startRtuBusSimulator, type RtuBusSimulator } from './bus-sim.js';

/**
 * A simulated RS-485 bus on a real pseudo-terminal: the driver opens `path` (end a of a socat
 * pair, standing in for /dev/serial/by-id/...), the simulator serves end b.
 *
 *   const rig = await startRtuRig({ units: [1, 2, 3] });
 *   rig.sim.setFault(2, { kind: 'crc' });
 *   await rig.unplug(); await rig.replug();   // USB adapter pulled and put back
 *   await rig.close();
 */
export interface RtuRig {
  readonly path: string;
  readonly pair: PtyPair;
  readonly sim: RtuBusSimulator;
  unplug(): Promise<void>;
  /** New pty behind the same path, and the simulator reopened on it. */
  replug(): Promise<void>;
  close(): Promise<void>;
}

export async function startRtuRig(opts: { units: Record<number, UnitOptions> | number[] }): Promise<RtuRig> {
  const pair = await createPtyPair();
  let sim: RtuBusSimulator;
  try {
    sim = await startRtuBusSimulator({ path: pair.b, units: opts.units });
  } catch (err) {
    await pair.close();
    throw err;
  }
  return {
    path: pair.a,
    pair,
    sim,
    unplug: () => pair.unplug(),
    async replug() {
      await pair.replug();
      await sim.reattach();
    },
    async close() {
      await sim.stop();
      await pair.close();
    },
  };
}
