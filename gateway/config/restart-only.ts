import { z } from 'zod';
import { Secret } from '../../drivers/kit/secret.js';

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

/**
 * Which of these settings (dotted paths) differ between two gateway files. A Secret (the broker
 * password read from mqtt.passwordFile) is compared by its fingerprint, as it serialises as
 * [redacted]: a rotated password file counts as a change.
 */
export function changedSettings(paths: readonly string[], before: unknown, after: unknown): string[] {
  return paths.filter((p) => settingKey(pick(before, p)) !== settingKey(pick(after, p)));
}

function pick(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function settingKey(value: unknown): string | undefined {
  return JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    return raw instanceof Secret ? `secret:${raw.fingerprint()}` : v;
  });
}
