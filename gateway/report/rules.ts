import { z } from 'zod';
import { durationSchema } from '../config/units.js';

/**
 * Report-by-exception settings, shared by every driver family: a `report:` block at device level
 * with per-point overrides. Validated once with the device file, compiled once per device into a
 * rule per point (`compileReport`); the filter (filter.ts) never reads raw config.
 */

const ruleShape = {
  onChange: z.boolean().optional().describe('true: a good value is sent only when it moved past the deadband since the last value sent, or when the heartbeat is due. false: every reading is sent. Default true in a report block.'),
  deadband: z.number().finite().nonnegative().optional().describe('Absolute deadband in the point\'s unit: a change must be larger than this to be sent (0 = any change). Default 0.'),
  deadbandPercent: z.number().finite().nonnegative().max(1000).optional().describe('Relative deadband in % of the last value sent; with deadband set too, the larger tolerance applies. Default none.'),
  heartbeat: durationSchema.optional().describe('Longest silence for a point while readings keep arriving: an unchanged value is sent again (marked attrs.report = "heartbeat") once this long has passed since the last one sent. Milliseconds or a duration (1s..1d). Default 5m.'),
};

const HEARTBEAT_MIN_MS = 1_000;
const HEARTBEAT_MAX_MS = 86_400_000;
export const DEFAULT_HEARTBEAT_MS = 300_000;

function checkHeartbeat(r: { heartbeat?: number | undefined }, ctx: z.RefinementCtx): void {
  if (r.heartbeat !== undefined && (r.heartbeat < HEARTBEAT_MIN_MS || r.heartbeat > HEARTBEAT_MAX_MS)) {
    ctx.addIssue({ code: 'custom', path: ['heartbeat'], message: `heartbeat must be between 1s and 1d (got ${r.heartbeat} ms)` });
  }
}

const pointRuleSchema = z.object(ruleShape).strict().superRefine(checkHeartbeat);

export const reportSchema = z
  .object({
    ...ruleShape,
    points: z
      .record(
        z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, 'a point name: letters, digits, and _ . : / - (not first)'),
        pointRuleSchema,
      )
      .optional()
      .describe('Per-point overrides by point name; a key left out takes the device-level value.'),
  })
  .strict()
  .superRefine(checkHeartbeat)
  .describe('Report by exception (docs/payload.md#report-by-exception): send a good value only when it changed past a deadband or its heartbeat is due. Bad and uncertain readings are always sent. Default: no block, every reading is sent.');

export type ReportConfig = z.output<typeof reportSchema>;

/** One point's compiled rule; `null` from `ruleFor` means every reading is sent. */
export interface PointRule {
  readonly deadband: number;
  /** Fraction of the last value sent (deadbandPercent / 100), 0 for none. */
  readonly deadbandFraction: number;
  readonly heartbeatMs: number;
}

export interface CompiledReport {
  ruleFor(point: string): PointRule | null;
}

export function compileReport(config: ReportConfig | undefined): CompiledReport | null {
  if (config === undefined) return null;
  const compile = (o: z.output<typeof pointRuleSchema> | undefined): PointRule | null => {
    const onChange = o?.onChange ?? config.onChange ?? true;
    if (!onChange) return null;
    return {
      deadband: o?.deadband ?? config.deadband ?? 0,
      deadbandFraction: (o?.deadbandPercent ?? config.deadbandPercent ?? 0) / 100,
      heartbeatMs: o?.heartbeat ?? config.heartbeat ?? DEFAULT_HEARTBEAT_MS,
    };
  };
  const base = compile(undefined);
  const byPoint = new Map(Object.entries(config.points ?? {}).map(([name, o]) => [name, compile(o)]));
  return { ruleFor: (point) => (byPoint.has(point) ? byPoint.get(point)! : base) };
}
