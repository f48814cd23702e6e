import { z } from 'zod';

/**
 * Settings a reload (SIGHUP) cannot apply to a running daemon are marked once, in the schema's
 * metadata, as zigbee2mqtt does with its `requiresRestart` flag: `.meta(RESTART_ONLY)`. The
 * reload diff, its "take effect only after a restart" message and the generated JSON Schema
 * (config/schema/gateway.schema.json, which editors show) all read that one mark.
 */
export const RESTART_ONLY = { requiresRestart: true } as const;

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema itself and every default/optional/pipe layer around it, outermost first. */
function layers(schema: z.ZodType): z.ZodType[] {
  const out: z.ZodType[] = [];
  for (let cur: z.ZodType | undefined = schema; cur; ) {
    out.push(cur);
    const def = defOf(cur);
    cur = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  }
  return out;
}

function isRestartOnly(schema: z.ZodType): boolean {
  return layers(schema).some((s) => (z.globalRegistry.get(s) as { requiresRestart?: boolean } | undefined)?.requiresRestart === true);
}

/** Dotted paths of the restart-only settings, e.g. ['mqtt', 'outbox.path', ...]. */
export function restartOnlyPaths(schema: z.ZodType, prefix = ''): string[] {
  const object = layers(schema).find((s): s is z.ZodObject => s instanceof z.ZodObject);
  if (!object) return [];
  const out: string[] = [];
  for (const [key, field] of Object.entries(object.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isRestartOnly(field)) out.push(path);
    else out.push(...restartOnlyPaths(field, path));
  }
  return out;
}
