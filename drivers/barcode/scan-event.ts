import type { DriverReading } from '../../gateway/model/reading.js';
import { splitAimId } from './aim.js';
import { DuplicateFilter } from './duplicate-filter.js';
import type { ScanConfig } from './schema.js';
import { compileScanValidator } from './validate.js';

export type ScanOutcome =
  | { kind: 'event'; reading: DriverReading }
  | { kind: 'duplicate'; code: string }
  | { kind: 'empty' }
  /** Bytes no scanner puts into a code: line noise that happened to contain a line ending. */
  | { kind: 'noise' };

/**
 * Characters that mark a "scan" as line noise (a loose connector, a wrong baud rate, a scanner
 * rebooting) rather than a code: bytes undecodable in the configured encoding (U+FFFD), and
 * control characters no symbology's data carries. Allowed: HT, and STX/ETX/EOT/FS/GS/RS/US,
 * which GS1 (GS as FNC1), ISO/IEC 15434 (RS, GS, EOT) and scanner framing legitimately send.
 * Random noise hits this set within a few bytes, so a noise burst does not become junk events.
 */
const NOISE = /[\uFFFD\x00\x01\x05-\x08\x0B\x0C\x0E-\x1B\x7F-\x9F]/;

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
    // CR/LF/NUL at the edges is framing (the other half of a CRLF under an explicit terminator,
    // NUL padding), never code content. Spaces are content: "]Q1 spaced " keeps them unless `trim`.
    let text = raw.replace(/^[\r\n\0]+|[\r\n\0]+$/g, '');
    if (cfg.stripPrefix !== undefined && text.startsWith(cfg.stripPrefix)) text = text.slice(cfg.stripPrefix.length);
    if (cfg.stripSuffix !== undefined && text.endsWith(cfg.stripSuffix)) text = text.slice(0, -cfg.stripSuffix.length);
    const aim = cfg.aimIds ? splitAimId(text) : { code: text };
    const code = cfg.trim ? aim.code.trim() : aim.code;
    if (code === '') return { kind: 'empty' };
    if (NOISE.test(code)) return { kind: 'noise' };
    if (dups.isDuplicate(code, ts)) return { kind: 'duplicate', code };

    const attrs = { ...baseAttrs };
    if (aim.symbology !== undefined) attrs.symbology = aim.symbology;
    if (aim.aimId !== undefined) attrs.aimId = aim.aimId;
    const invalid = validate(code, aim.aimId);
    attrs.valid = invalid === null;
    if (invalid !== null) attrs.invalidReason = invalid;
    return {
      kind: 'event',
      reading: { point: cfg.point, value: code, quality: 'good', ts, kind: 'event', attrs },
    };
  };
}
