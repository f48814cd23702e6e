import { z } from 'zod';
import { idSchema } from '../../drivers/device-schema.js';
import { RESTART_ONLY } from './restart-only.js';
import { durationSchema } from './units.js';

/**
 * gateway.yaml `commands:`: the inbound command channel (docs/commands.md). Off unless enabled;
 * even then only points a device file declares under writes/outputs can be written.
 */
export const MAX_EXPIRY_AHEAD_CAP_MS = 3_600_000;

export const commandsSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Subscribe to <topicPrefix>/<gateway.id>/commands and carry out commands on declared writable points. Default false. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    maxExpiryAhead: durationSchema
      .default(300_000)
      .refine((ms) => ms >= 1000 && ms <= MAX_EXPIRY_AHEAD_CAP_MS, { message: 'between 1s and 1h' })
      .describe('Longest a command\'s expiresAt may lie in the future; later ones are rejected (expiry-too-far). The journal keeps every id at least twice this long, so a replayed copy is always recognised. Milliseconds or a duration, 1s-1h. Default 5m. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    rate: z
      .object({
        perSecond: z.number().min(0.1).max(1000).default(20).describe('Commands per second this gateway carries out at most, sustained. Default 20. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        burst: z.number().int().min(1).max(10_000).default(40).describe('Commands accepted at once above the sustained rate. Default 40. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
      })
      .strict()
      .default({ perSecond: 20, burst: 40 })
      .describe('Gateway-wide rate limit; each point has its own minInterval too. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    publicKeys: z
      .array(
        z
          .object({
            id: idSchema.describe('Key id a command may name in keyId (e.g. cc-2026).'),
            file: z.string().min(1).describe('PEM (SPKI) Ed25519 public key of the command centre, absolute or relative to the config directory.'),
          })
          .strict(),
      )
      .max(8)
      .default([])
      .describe('Command-centre public keys (Ed25519). When set, commands for points with requireSignature (the default) must carry a valid signature, so a broker account alone cannot move equipment. Several keys allow rotation. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    journalMaxRows: z.number().int().min(1000).max(10_000_000).default(200_000).describe('Commands kept in the journal (commands.db beside the outbox) at most; ids younger than twice maxExpiryAhead are never pruned, so a full journal refuses new commands (journal-full) rather than forget one. Default 200000. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
  })
  .strict()
  .describe('The inbound command channel (docs/commands.md). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.')
  .meta(RESTART_ONLY);

export type CommandsConfig = z.output<typeof commandsSchema>;
export const COMMANDS_DEFAULTS: CommandsConfig = commandsSchema.parse({});
