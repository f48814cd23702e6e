import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';
import { serialPortSchema } from '../transport/serial/schema.js';
import { writesSchema } from './writes.js';

/**
 * Register map and polling settings shared by every Modbus transport (TCP now, RTU later):
 * the transport adds only its own connection fields on top of `modbusPollingShape`.
 */

import { byteOrders, isBitTable, manualOrders, modbusTables, modbusValueTypes, ORDER_SWITCHES, registerWidth } from './register-types.js';
export { byteOrders, isBitTable, manualOrderOf, manualOrders, modbusTables, modbusValueTypes, ORDER_SWITCHES, registerWidth } from './register-types.js';
export type { ByteOrder, ManualOrder, ModbusTable, ModbusValueType } from './register-types.js';

/** zod's default enum message quotes and pipes the options; technicians read this over SSH. */
function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `expected one of ${values.join(', ')}` });
}

const ORDER_TABLE =
  'ABCD = byteOrder big, wordOrder big; CDAB = big, little; BADC = little, big; DCBA = little, little. ' +
  'Letters are the value\'s bytes, A most significant, in the order they arrive. ' +
  'float32 21.5 (0x41AC0000) arrives as 41AC 0000 in ABCD, 0000 41AC in CDAB, AC41 0000 in BADC, 0000 AC41 in DCBA. ' +
  'For float64 the switches apply across all four registers: CDAB = GHEFCDAB (low word first). ' +
  '`edge-gateway probe modbus` shows every order side by side.';

export const registerEntrySchema = z
  .object({
    name: pointNameSchema.describe('Point name: the `point` of every reading from this register in the MQTT payload. Unique within the device.'),
    table: enumOf(modbusTables)
      .default('holding')
      .describe('Modbus table: holding (FC3, 4xxxx in manuals), input (FC4, 3xxxx), coil (FC1, 0xxxx), discrete (FC2, 1xxxx). Default holding. Coil and discrete hold single bits: type must be bool.'),
    address: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .describe('On-the-wire 0-based address of the first register (or bit). A manual\'s 40001 is usually address 0 of the holding table, 30011 address 10 of the input table.'),
    type: enumOf(modbusValueTypes).describe(
      'How to read the value: int16/uint16/bool/bit take 1 register, int32/uint32/float32 take 2, float64 takes 4. bool = register not 0; bit = one bit of a register (set `bit`).',
    ),
    /** Only for `type: bit`: which bit of the register, 0 = least significant. */
    bit: z.number().int().min(0).max(15).optional().describe('Only for type bit: which bit of the register, 0 = least significant, 15 = most.'),
    /**
     * Manual name for the two switches below; optional, and the switches it sets may also be
     * written out as long as they agree. Resolved to byteOrder/wordOrder at load.
     */
    order: enumOf(manualOrders)
      .optional()
      .describe(`Byte/word order by the manual's name, instead of byteOrder + wordOrder (give either; if both, they must agree). ${ORDER_TABLE}`),
    /** Order of the two bytes inside each register. */
    byteOrder: enumOf(byteOrders)
      .optional()
      .describe(`Order of the two bytes inside each register: big = high byte first (the Modbus standard), little = swapped. Default big. ${ORDER_TABLE}`),
    /** Order of the registers of a 32/64-bit value: big = first register holds the high word. */
    wordOrder: enumOf(byteOrders)
      .optional()
      .describe(`Order of the registers of a 32/64-bit value: big = first register holds the most significant word, little = the least significant. Default big; ignored for 16-bit types. ${ORDER_TABLE}`),
    /** Engineering value = raw * scale + offset (numeric types only). */
    scale: z.number().default(1).describe('Engineering value = raw × scale + offset (numeric types only). Default 1. E.g. 0.1 for a register in tenths of a degree.'),
    offset: z.number().default(0).describe('Added after scale: value = raw × scale + offset. Default 0.'),
    unit: z.string().min(1).max(32).optional().describe('Unit sent with each reading (e.g. °C, kWh, A). Free text, not converted.'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.type === 'bit' && r.bit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['bit'], message: 'type bit needs bit: 0..15' });
    }
    if (r.type !== 'bit' && r.bit !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['bit'], message: `bit only applies to type bit, not ${r.type}` });
    }
    if (isBitTable(r.table) && r.type !== 'bool') {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `the ${r.table} table holds single bits: type must be bool, not ${r.type}`,
      });
    }
    if (r.order !== undefined) {
      const implied = ORDER_SWITCHES[r.order];
      for (const key of ['byteOrder', 'wordOrder'] as const) {
        const given = r[key];
        if (given !== undefined && given !== implied[key]) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `order ${r.order} means byteOrder ${implied.byteOrder}, wordOrder ${implied.wordOrder}, but ${key} is ${given}; give order or the two switches, not both disagreeing`,
          });
        }
      }
    }
    const last = r.address + registerWidth(r.type) - 1;
    if (last > 65535) {
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: `${r.type} at ${r.address} would end at register ${last}, past 65535`,
      });
    }
  })
  .transform(({ order, ...r }) => {
    const implied = order === undefined ? ORDER_SWITCHES.ABCD : ORDER_SWITCHES[order];
    return { ...r, byteOrder: r.byteOrder ?? implied.byteOrder, wordOrder: r.wordOrder ?? implied.wordOrder };
  });

export type RegisterEntry = z.output<typeof registerEntrySchema>;

/** The decode-relevant part of a register entry (what `decode.ts` compiles). */
export type DecodeOptions = Pick<
  RegisterEntry,
  'table' | 'type' | 'bit' | 'byteOrder' | 'wordOrder' | 'scale' | 'offset'
>;

export const registerMapSchema = z
  .array(registerEntrySchema)
  .min(1)
  .superRefine((entries, ctx) => {
    const firstIndex = new Map<string, number>();
    entries.forEach((e, i) => {
      const first = firstIndex.get(e.name);
      if (first === undefined) {
        firstIndex.set(e.name, i);
      } else {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `duplicate point name "${e.name}" (first used at registers[${first}])`,
        });
      }
    });
  });

/** Largest request a Modbus PDU allows: 125 registers (FC3/4), 2000 bits (FC1/2). */
export const MAX_REGISTERS_PER_REQUEST = 125;
export const MAX_BITS_PER_REQUEST = 2000;

/** Polling fields every Modbus transport shares; spread into the transport's device schema. */
export const modbusPollingShape = {
  unitId: z.number().int().min(0).max(255).default(1).describe('Modbus unit (slave) id the device answers to. TCP: 0-255, usually 1 (or 255); behind a TCP-to-RTU gateway, the RTU unit. Default 1.'),
  intervalMs: z.number().int().min(10).default(1000).describe('Poll period: all registers are read once per interval. Milliseconds, >= 10. Default 1000.'),
  timeoutMs: z.number().int().min(10).max(60_000).default(1000).describe('How long to wait for each answer before counting a timeout. Milliseconds, 10-60000. Default 1000.'),
  maxRegistersPerRequest: z.number().int().min(1).max(MAX_REGISTERS_PER_REQUEST).default(MAX_REGISTERS_PER_REQUEST).describe('Most registers (1-125) read in one request when adjacent registers are coalesced. Lower it for devices that reject long reads. Default 125.'),
  /**
   * Unmapped registers a coalesced request may bridge. Default 0: many devices answer ILLEGAL
   * DATA ADDRESS when a read touches a hole in their map, which would fail every point in it.
   */
  maxGap: z.number().int().min(0).max(MAX_REGISTERS_PER_REQUEST - 1).default(0).describe('Unmapped registers a coalesced request may bridge (0-124). Default 0: many devices answer ILLEGAL DATA ADDRESS when a read touches a hole in their map, which would fail every point in it.'),
  registers: registerMapSchema.describe('The register map: one entry per point (name, table, address, type, order, scale, unit). Adjacent entries are read together.'),
  writes: writesSchema,
};

/** Checks that need both the polling settings and the register map. */
export function checkRequestFits(
  d: { maxRegistersPerRequest: number; registers: RegisterEntry[] },
  ctx: z.RefinementCtx,
): void {
  d.registers.forEach((r, i) => {
    const width = registerWidth(r.type);
    if (!isBitTable(r.table) && width > d.maxRegistersPerRequest) {
      ctx.addIssue({
        code: 'custom',
        path: ['registers', i, 'type'],
        message: `${r.type} spans ${width} registers but maxRegistersPerRequest is ${d.maxRegistersPerRequest}`,
      });
    }
  });
}

export const modbusTcpDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('modbus-tcp').describe('modbus-tcp: a Modbus TCP device (or a TCP-to-RTU gateway). A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    host: z.string().min(1).max(253).describe('IP address or host name of the device. Required.'),
    port: z.number().int().min(1).max(65535).default(502).describe('Modbus TCP port. Default 502.'),
    ...modbusPollingShape,
    /**
     * Requests of one poll sent before the first answer arrives (pipelining, matched by
     * transaction id). Default 1: many devices and TCP/RTU gateways serve one transaction at a
     * time and drop or mix up the rest; raise it only for a device documented to queue several.
     */
    maxOutstandingRequests: z.number().int().min(1).max(16).default(1).describe('Requests sent to this device before the first answer arrives (Modbus TCP pipelining, matched by transaction id). 1-16. Default 1 (one at a time); raise only for a device known to serve several outstanding transactions.'),
  })
  .strict()
  .superRefine(checkRequestFits);

export type ModbusTcpDevice = z.output<typeof modbusTcpDeviceSchema>;

/**
 * Per-unit circuit breaker on an RTU bus: after `failureThreshold` consecutive timeouts the unit
 * is skipped and probed with one request after a backoff doubling from `minBackoffMs` to
 * `maxBackoffMs`, so a dead unit stops eating the bus time of the live ones.
 */
export const rtuBreakerSchema = z
  .object({
    failureThreshold: z.number().int().min(1).max(100).default(3).describe('Consecutive timeouts after which the unit is skipped and only probed now and then, so a dead unit stops eating the bus time of the live ones. Default 3.'),
    minBackoffMs: z.number().int().min(10).max(600_000).default(1_000).describe('First wait before probing a skipped unit again, doubling up to maxBackoffMs. Milliseconds. Default 1000.'),
    maxBackoffMs: z.number().int().min(10).max(3_600_000).default(30_000).describe('Longest wait between probes of a skipped unit. Milliseconds, >= minBackoffMs. Default 30000.'),
  })
  .strict()
  .refine((b) => b.maxBackoffMs >= b.minBackoffMs, { message: 'maxBackoffMs must be >= minBackoffMs', path: ['maxBackoffMs'] });

export const rtuBreakerDefaults = { failureThreshold: 3, minBackoffMs: 1_000, maxBackoffMs: 30_000 } as const;

/**
 * One unit on an RS-485 bus. Devices naming the same `port.path` share the port; their line
 * settings must match. `unitId` is required here (1..247: 0 is broadcast, which never answers,
 * and 248..255 are reserved by the serial-line spec).
 */
export const modbusRtuDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('modbus-rtu').describe('modbus-rtu: one unit on an RS-485 bus. Devices naming the same port.path share the port (one transaction at a time) and must agree on its line settings. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    port: serialPortSchema.describe('The serial port of the RS-485 bus. Units on one bus share it; baudRate, dataBits, parity and stopBits must match across them.'),
    ...modbusPollingShape,
    unitId: z.number().int().min(1).max(247).describe('Modbus unit id on the bus, 1-247 (0 is broadcast, 248-255 reserved). Each unit id belongs to one device file. Required.'),
    breaker: rtuBreakerSchema.default(rtuBreakerDefaults).describe('Per-unit circuit breaker: after failureThreshold consecutive timeouts the unit is skipped and probed with backoff.'),
  })
  .strict()
  .superRefine(checkRequestFits);

export type ModbusRtuDevice = z.output<typeof modbusRtuDeviceSchema>;

/** Line settings every unit on one RS-485 port must agree on. */
export const RTU_LINE_SETTINGS = ['baudRate', 'dataBits', 'parity', 'stopBits'] as const;

/** Units on one port must share its line settings and each unit id belongs to one device file. */
export function checkRtuBuses(devices: ModbusRtuDevice[]): { device: string; path: (string | number)[]; message: string }[] {
  const problems: { device: string; path: (string | number)[]; message: string }[] = [];
  const byPort = new Map<string, ModbusRtuDevice[]>();
  for (const d of devices) byPort.set(d.port.path, [...(byPort.get(d.port.path) ?? []), d]);
  for (const [path, onBus] of byPort) {
    const first = onBus[0]!;
    const units = new Map<number, string>();
    for (const d of onBus) {
      for (const k of RTU_LINE_SETTINGS) {
        if (d !== first && d.port[k] !== first.port[k]) {
          problems.push({ device: d.id, path: ['port', k], message: `${path} is used by device "${first.id}" with ${k} ${String(first.port[k])}; every unit on one bus must use the same line settings` });
        }
      }
      const holder = units.get(d.unitId);
      if (holder !== undefined) problems.push({ device: d.id, path: ['unitId'], message: `unit ${d.unitId} on ${path} is already polled by device "${holder}"` });
      else units.set(d.unitId, d.id);
    }
  }
  return problems;
}
