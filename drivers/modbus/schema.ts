import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';
import { serialPortSchema } from '../transport/serial/schema.js';

/**
 * Register map and polling settings shared by every Modbus transport (TCP now, RTU later):
 * the transport adds only its own connection fields on top of `modbusPollingShape`.
 */

export const modbusTables = ['holding', 'input', 'coil', 'discrete'] as const;
export type ModbusTable = (typeof modbusTables)[number];

export const modbusValueTypes = [
  'int16',
  'uint16',
  'int32',
  'uint32',
  'float32',
  'float64',
  'bool',
  'bit',
] as const;
export type ModbusValueType = (typeof modbusValueTypes)[number];

export const byteOrders = ['big', 'little'] as const;

/** zod's default enum message quotes and pipes the options; technicians read this over SSH. */
function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `expected one of ${values.join(', ')}` });
}

/** Registers (16-bit words) a value of this type occupies; bit tables hold one bit per address. */
export function registerWidth(type: ModbusValueType): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'float64':
      return 4;
    default:
      return 1;
  }
}

export function isBitTable(table: ModbusTable): boolean {
  return table === 'coil' || table === 'discrete';
}

export const registerEntrySchema = z
  .object({
    name: pointNameSchema,
    table: enumOf(modbusTables).default('holding'),
    address: z.number().int().min(0).max(65535),
    type: enumOf(modbusValueTypes),
    /** Only for `type: bit`: which bit of the register, 0 = least significant. */
    bit: z.number().int().min(0).max(15).optional(),
    /** Order of the two bytes inside each register. */
    byteOrder: enumOf(byteOrders).default('big'),
    /** Order of the registers of a 32/64-bit value: big = first register holds the high word. */
    wordOrder: enumOf(byteOrders).default('big'),
    /** Engineering value = raw * scale + offset (numeric types only). */
    scale: z.number().default(1),
    offset: z.number().default(0),
    unit: z.string().min(1).max(32).optional(),
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
    const last = r.address + registerWidth(r.type) - 1;
    if (last > 65535) {
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: `${r.type} at ${r.address} would end at register ${last}, past 65535`,
      });
    }
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
  unitId: z.number().int().min(0).max(255).default(1),
  intervalMs: z.number().int().min(10).default(1000),
  timeoutMs: z.number().int().min(10).max(60_000).default(1000),
  maxRegistersPerRequest: z.number().int().min(1).max(MAX_REGISTERS_PER_REQUEST).default(MAX_REGISTERS_PER_REQUEST),
  /**
   * Unmapped registers a coalesced request may bridge. Default 0: many devices answer ILLEGAL
   * DATA ADDRESS when a read touches a hole in their map, which would fail every point in it.
   */
  maxGap: z.number().int().min(0).max(MAX_REGISTERS_PER_REQUEST - 1).default(0),
  registers: registerMapSchema,
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
    type: z.literal('modbus-tcp'),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(502),
    ...modbusPollingShape,
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
    failureThreshold: z.number().int().min(1).max(100).default(3),
    minBackoffMs: z.number().int().min(10).max(600_000).default(1_000),
    maxBackoffMs: z.number().int().min(10).max(3_600_000).default(30_000),
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
    type: z.literal('modbus-rtu'),
    port: serialPortSchema,
    ...modbusPollingShape,
    unitId: z.number().int().min(1).max(247),
    breaker: rtuBreakerSchema.default(rtuBreakerDefaults),
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
