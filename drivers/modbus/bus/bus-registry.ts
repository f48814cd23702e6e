import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { SerialPortConfig } from '../../transport/serial/schema.js';
import { RtuBus } from './rtu-bus.js';
import { RTU_LINE_SETTINGS } from '../schema.js';

/**
 * Devices naming the same serial port share one RtuBus: one open port, one scheduler. The first
 * device to start opens the bus and the last one to stop closes it. A bus is keyed by the port's
 * resolved path (so a by-id link and the /dev/ttyUSB0 it points at are one bus) when the device
 * is present, else by the configured path.
 *
 * Line settings must agree: one UART cannot run two baud rates, so a device asking for other
 * settings than the bus was opened with is refused with MODBUS_RTU_PORT_CONFLICT, naming the
 * device that owns the settings. Two devices claiming one unit id are refused too
 * (MODBUS_RTU_UNIT_IN_USE): their replies would be indistinguishable on the wire.
 */

export class RtuBusConfigError extends Error {
  constructor(
    readonly code: 'MODBUS_RTU_PORT_CONFLICT' | 'MODBUS_RTU_UNIT_IN_USE',
    message: string,
  ) {
    super(message);
    this.name = 'RtuBusConfigError';
  }
}

export interface BusLease {
  readonly bus: RtuBus;
  /** Other devices on the same bus, for status. */
  peers(): number;
  release(): Promise<void>;
}

interface Entry {
  bus: RtuBus;
  port: SerialPortConfig;
  /** Device id that opened the bus (its settings rule). */
  owner: string;
  /** unit id -> device id */
  units: Map<number, string>;
}


export class RtuBusRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Buses still closing, so a device started right after (a reload) waits for the port lock. */
  private readonly closing = new Map<string, Promise<void>>();

  async acquire(port: SerialPortConfig, unitId: number, deviceId: string, log: Logger): Promise<BusLease> {
    const key = await realpath(port.path).catch(() => resolve(port.path));
    let entry = this.entries.get(key);
    if (entry) {
      const differing = RTU_LINE_SETTINGS.filter((k) => entry!.port[k] !== port[k]);
      if (differing.length > 0) {
        const theirs = differing.map((k) => `${k} ${String(entry!.port[k])}`).join(', ');
        const ours = differing.map((k) => `${k} ${String(port[k])}`).join(', ');
        throw new RtuBusConfigError(
          'MODBUS_RTU_PORT_CONFLICT',
          `serial port ${port.path} is already open by device "${entry.owner}" with ${theirs}; this device asks for ${ours}. ` +
            'Every device on one RS-485 bus must use the same line settings: fix the port block of one of the device files.',
        );
      }
      const holder = entry.units.get(unitId);
      if (holder !== undefined) {
        throw new RtuBusConfigError(
          'MODBUS_RTU_UNIT_IN_USE',
          `unit ${unitId} on serial port ${port.path} is already polled by device "${holder}"; each unit id on a bus belongs to one device file`,
        );
      }
    } else {
      const bus = new RtuBus({ port, log: log.child({ bus: port.path }), after: this.closing.get(key) });
      entry = { bus, port, owner: deviceId, units: new Map() };
      this.entries.set(key, entry);
    }
    entry.units.set(unitId, deviceId);
    const held = entry;
    await held.bus.start();
    let released = false;
    return {
      bus: held.bus,
      peers: () => held.units.size - 1,
      release: async () => {
        if (released) return;
        released = true;
        held.units.delete(unitId);
        if (held.owner === deviceId) held.owner = held.units.values().next().value ?? deviceId;
        if (held.units.size > 0 || this.entries.get(key) !== held) return;
        this.entries.delete(key);
        const done = held.bus.stop();
        this.closing.set(key, done);
        await done;
        if (this.closing.get(key) === done) this.closing.delete(key);
      },
    };
  }

  /** Buses currently open, for tests and status. */
  get size(): number {
    return this.entries.size;
  }
}

/** The registry every modbus-rtu driver in this process shares. */
export const sharedRtuBuses = new RtuBusRegistry();
