import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { deviceConfigSchema } from '../../drivers/registry.js';
import { batchPayloadSchema, batchPayloadV2Schema, healthPayloadSchema, statusPayloadSchema } from '../forwarder/payload-schema.js';
import { gatewayFileSchema } from './gateway-schema.js';
import { commandMessageSchema } from '../commands/command-message.js';

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
 * The MQTT payload contract for central systems (docs/payload.md). Batches come as v1 or, when
 * the gateway opts in, v2 (poll records); health stays v1.
 */
export function payloadSchema(): Record<string, unknown> {
  const opts = { io: 'output', target: 'draft-2020-12' } as const;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'edge-gateway MQTT payloads (batches v1 and v2, health v1)',
    $defs: {
      telemetryOrEventsBatch: z.toJSONSchema(batchPayloadSchema, opts),
      telemetryOrEventsBatchV2: z.toJSONSchema(batchPayloadV2Schema, opts),
      health: z.toJSONSchema(healthPayloadSchema, opts),
      status: z.toJSONSchema(statusPayloadSchema, opts),
    },
  };
}

/** The inbound command contract (docs/commands.md). Unknown fields are allowed and ignored. */
export function commandSchema(): Record<string, unknown> {
  return {
    title: 'edge-gateway command (inbound, v1)',
    ...z.toJSONSchema(commandMessageSchema.loose(), { io: 'input', target: 'draft-2020-12' }),
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
