import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { deviceConfigSchema } from '../../drivers/registry.js';
import { batchPayloadSchema, batchPayloadV2Schema, healthPayloadSchema, statusPayloadSchema } from '../forwarder/payload-schema.js';
import { gatewayFileSchema } from './gateway-schema.js';
import { commandMessageSchema, replayMessageSchema } from '../commands/command-message.js';

/**
 * JSON Schemas for editors (yaml-language-server), generated from the same zod schemas the
 * gateway validates with, so the two cannot drift. `npm run schema` rewrites config/schema/;
 * a test fails when the committed files are stale.
 */
export function jsonSchemas(): Record<string, unknown> {
  const opts = { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' } as const;
  return {
    'gateway.schema.json': { title: 'edge-gateway gateway.yaml', ...z.toJSONSchema(gatewayFileSchema, opts) },
    'device.schema.json': { title: 'edge-gateway device file (devices/*.yaml)', ...z.toJSONSchema(deviceConfigSchema, opts) },
  };
}

/**
 * Opens every object of a generated schema to fields it does not name. The zod schemas are strict
 * so the gateway's own tests catch a field the forwarder was never meant to send; the published
 * contract must not be: new optional fields keep the version and consumers ignore them
 * (docs/payload.md), so a consumer validating with it must accept the next minor release.
 * Only `additionalProperties: false` goes; a schema for a record's values stays.
 */
export function openObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'additionalProperties' && v === false) continue;
    out[k] = openObjects(v);
  }
  return out;
}

/**
 * The MQTT payload contract for central systems (docs/payload.md). Batches come as v1 or, when
 * the gateway opts in, v2 (poll records); health stays v1. Open to unknown fields (openObjects).
 */
export function payloadSchema(): Record<string, unknown> {
  const opts = { io: 'output', target: 'draft-2020-12' } as const;
  return openObjects({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'edge-gateway MQTT payloads (batches v1 and v2, health v1)',
    $defs: {
      telemetryOrEventsBatch: z.toJSONSchema(batchPayloadSchema, opts),
      telemetryOrEventsBatchV2: z.toJSONSchema(batchPayloadV2Schema, opts),
      health: z.toJSONSchema(healthPayloadSchema, opts),
      status: z.toJSONSchema(statusPayloadSchema, opts),
    },
  }) as Record<string, unknown>;
}

/** The inbound command contract (docs/commands.md), replay included. Unknown fields are allowed and ignored. */
export function commandSchema(): Record<string, unknown> {
  return {
    title: 'edge-gateway command (inbound, v1): a device write or pulse, or a replay request',
    ...z.toJSONSchema(z.union([commandMessageSchema.loose(), replayMessageSchema.loose()]), { io: 'input', target: 'draft-2020-12' }),
  };
}

export function renderSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1]?.endsWith('json-schema.js')) {
  const outDir = process.argv[2] ?? 'config/schema';
  for (const [name, schema] of Object.entries(jsonSchemas())) writeFileSync(join(outDir, name), renderSchema(schema));
  writeFileSync(process.argv[3] ?? 'docs/payload.schema.json', renderSchema(payloadSchema()));
  writeFileSync(process.argv[4] ?? 'docs/commands.schema.json', renderSchema(commandSchema()));
}
