import { gatewayFileSchema, type GatewayFile } from '../gateway/config/gateway-schema.js';
import type { Reading } from '../gateway/model/reading.js';

/**
 * The load the in-process benchmarks emit, built once up front so that generating it costs
 * nothing per reading: one array per simulated device, shaped like a full 125-register Modbus
 * poll (the largest a single request returns), which is what the group commit sees in the field.
 */
export type EmittedReading = Omit<Reading, 'device'>;

export interface DeviceChunk {
  device: string;
  readings: EmittedReading[];
}

export const REGISTERS_PER_POLL = 125;

export function buildChunks(devices: number, perChunk = REGISTERS_PER_POLL, ts = Date.now()): DeviceChunk[] {
  const chunks: DeviceChunk[] = [];
  for (let d = 0; d < devices; d++) {
    const readings: EmittedReading[] = [];
    for (let i = 0; i < perChunk; i++) {
      // Mixed value shapes as a register map decodes them: counts, scaled floats, a flag.
      const value = i % 10 === 9 ? i % 20 === 19 : i % 3 === 0 ? 1000 + d * 100 + i : Math.round((20 + d + i / 7) * 100) / 100;
      readings.push({ point: `hr.${i}`, value, quality: 'good', ts, ...(i % 3 === 1 ? { unit: 'degC' } : {}) });
    }
    chunks.push({ device: `bench-plc-${String(d + 1).padStart(2, '0')}`, readings });
  }
  return chunks;
}

/**
 * The gateway's shipped defaults (group commit window, row size, batch size, in-flight window),
 * read from the config schema so the benchmark follows any change to them.
 */
export function shippedDefaults(brokerUrl: string): GatewayFile {
  return gatewayFileSchema.parse({ gateway: { id: 'bench-gw' }, mqtt: { urls: [brokerUrl] } });
}
