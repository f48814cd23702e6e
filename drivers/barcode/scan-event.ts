import type { DriverReading } from '../reading.js';
import { splitAimId } from './aim.js';
import { DuplicateFilter } from './duplicate-filter.js';
import type { ScanConfig } from './schema.js';
import { compileScanValidator } from './validate.js';

export type ScanOutcome =
  | { kind: 'event'; reading: DriverReading }
  | { kind: 'duplicate'; code: string }
  | { kind: 'empty' };

/**
 * Turns the raw text of one scan into an event reading: strip framing, split off the AIM id,
 * validate, suppress repeats. Built once per device; the per-scan path is plain string work.
 */
export function compileScanPipeline(cfg: ScanConfig): (raw: string, ts: number) => ScanOutcome {
  const validate = compileScanValidator(cfg.validate);
  const dups = new DuplicateFilter(cfg.duplicateWindowMs);
  const baseAttrs: Record<string, string | number | boolean> = {};
  if (cfg.site !== undefined) baseAttrs.site = cfg.site;
  if (cfg.gate !== undefined) baseAttrs.gate = cfg.gate;
  if (cfg.lane !== undefined) baseAttrs.lane = cfg.lane;
  if (cfg.direction !== undefined) baseAttrs.direction = cfg.direction;

  return (raw, ts) => {
    // Stray CR/LF/NUL/space at the edges is the other half of a CRLF or scanner padding.
    let text = raw.replace(/^[\r\n\0 ]+|[\r\n\0 ]+$/g, '');
    if (cfg.stripPrefix !== undefined && text.startsWith(cfg.stripPrefix)) text = text.slice(cfg.stripPrefix.length);
    if (cfg.stripSuffix !== undefined && text.endsWith(cfg.stripSuffix)) text = text.slice(0, -cfg.stripSuffix.length);
    const aim = cfg.aimIds ? splitAimId(text) : { code: text };
    const code = aim.code;
    if (code === '') return { kind: 'empty' };
    if (dups.isDuplicate(code, ts)) return { kind: 'duplicate', code };

    const attrs = { ...baseAttrs };
    if (aim.symbology !== undefined) attrs.symbology = aim.symbology;
    if (aim.aimId !== undefined) attrs.aimId = aim.aimId;
    const invalid = validate(code);
    attrs.valid = invalid === null;
    if (invalid !== null) attrs.invalidReason = invalid;
    return {
      kind: 'event',
      reading: { point: cfg.point, value: code, quality: 'good', ts, kind: 'event', attrs },
    };
  };
}
