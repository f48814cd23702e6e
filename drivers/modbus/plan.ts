import { compileDecoder, type Decoder } from './decode.js';
import {
  isBitTable,
  MAX_BITS_PER_REQUEST,
  modbusTables,
  registerWidth,
  type ModbusTable,
  type RegisterEntry,
} from './schema.js';

/**
 * Compiles a register map into the requests a poll sends, once at config load. Adjacent points
 * of one table are coalesced into a single read of at most `maxRegistersPerRequest` registers
 * (2000 bits for coil/discrete tables), bridging holes of up to `maxGap` unmapped addresses.
 * Overlapping points (two views of the same register) share one read.
 */

export interface PlannedPoint {
  name: string;
  unit?: string;
  decode: Decoder;
}

export interface ReadRequest {
  table: ModbusTable;
  address: number;
  /** Registers (or bits) to read. */
  count: number;
  points: PlannedPoint[];
}

export interface ReadPlan {
  requests: ReadRequest[];
  /** Point names in config order, for reporting every point when the whole device fails. */
  pointNames: string[];
}

export interface PlanLimits {
  maxRegistersPerRequest: number;
  maxGap: number;
}

export class PlanError extends Error {
  readonly code = 'MODBUS_PLAN';
}

export function compileReadPlan(registers: readonly RegisterEntry[], limits: PlanLimits): ReadPlan {
  const requests: ReadRequest[] = [];
  for (const table of modbusTables) {
    const limit = isBitTable(table) ? MAX_BITS_PER_REQUEST : limits.maxRegistersPerRequest;
    const entries = registers
      .filter((r) => r.table === table)
      .sort((a, b) => a.address - b.address || registerWidth(b.type) - registerWidth(a.type));

    let group: RegisterEntry[] = [];
    let start = 0;
    let end = 0; // exclusive
    const flush = () => {
      if (group.length === 0) return;
      requests.push({
        table,
        address: start,
        count: end - start,
        points: group.map((r) => ({
          name: r.name,
          ...(r.unit !== undefined ? { unit: r.unit } : {}),
          decode: compileDecoder(r, r.address - start),
        })),
      });
      group = [];
    };

    for (const r of entries) {
      const width = isBitTable(table) ? 1 : registerWidth(r.type);
      if (width > limit) {
        throw new PlanError(
          `point "${r.name}": ${r.type} spans ${width} registers, more than maxRegistersPerRequest ${limit}`,
        );
      }
      const rEnd = r.address + width;
      const fits = group.length > 0 && r.address - end <= limits.maxGap && Math.max(end, rEnd) - start <= limit;
      if (fits) {
        group.push(r);
        end = Math.max(end, rEnd);
      } else {
        flush();
        group = [r];
        start = r.address;
        end = rEnd;
      }
    }
    flush();
  }
  return { requests, pointNames: registers.map((r) => r.name) };
}
