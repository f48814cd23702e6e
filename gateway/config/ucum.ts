/**
 * Units are free text in device files; central systems need one vocabulary, and payload.md
 * recommends UCUM codes (https://ucum.org: `Cel`, `kW.h`, `m/s`, `{vehicles}`). check-config and
 * the daemon warn, never refuse, on a unit that does not read as UCUM: an existing installation
 * keeps running, and the warning names the code to use where the usual spellings are known.
 *
 * This reads the common shape of a UCUM code (prefixed atoms joined by `.` and `/`, integer
 * exponents, `{annotations}`), with the atoms field devices use; it is not a full UCUM parser,
 * so a rare valid code may be warned about; the warning says so.
 */
const ATOMS = [
  'm', 'g', 's', 'min', 'h', 'd', 'wk', 'mo', 'a', 'L', 'l', 'K', 'Cel', '[degF]', 'Pa', 'bar', '[psi]', 'atm', 'V', 'A', 'W', 'J', 'N', 'Hz',
  'Ohm', 'S', 'F', 'C', 'T', 'Wb', 'H', 'lx', 'lm', 'cd', 'mol', '%', 'deg', 'rad', 'sr', 'B', 'B[SPL]', 'B[V]', 't', 'VA', 'var', '[ppm]', '[ppb]',
  '[ppth]', 'eq', 'U', 'bit', 'By', 'Bd', '1', '10*3', '10*6', "'", "''", '[in_i]', '[ft_i]', '[mi_i]', '[kn_i]', '[gal_us]', 'ar',
];
const PREFIXES = ['Y', 'Z', 'E', 'P', 'T', 'G', 'M', 'k', 'h', 'da', 'd', 'c', 'm', 'u', 'n', 'p', 'f', 'Ki', 'Mi', 'Gi'];

/** Common spellings and their UCUM codes. */
const SUGGEST: Record<string, string> = {
  '°C': 'Cel', degC: 'Cel', C: 'Cel', celsius: 'Cel', '°F': '[degF]', degF: '[degF]', '°': 'deg', kWh: 'kW.h', Wh: 'W.h', MWh: 'MW.h',
  kVAh: 'kVA.h', kvarh: 'kvar.h', 'm³': 'm3', 'm3/h': 'm3/h', 'm²': 'm2', 'l/min': 'L/min', rpm: '{rpm} or /min', 'km/h': 'km/h', kph: 'km/h',
  mph: '[mi_i]/h', ppm: '[ppm]', ppb: '[ppb]', dB: 'dB', dBA: 'dB{A}', 'dB(A)': 'dB{A}', lux: 'lx', sec: 's', secs: 's', seconds: 's',
  hours: 'h', hr: 'h', minutes: 'min', percent: '%', pct: '%', ohm: 'Ohm', 'Ω': 'Ohm', psi: '[psi]', hPa: 'hPa', mbar: 'mbar',
  vehicles: '{vehicles}', count: '{count}', counts: '{count}', pulses: '{pulses}',
};

const atomPattern = ATOMS.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).sort((x, y) => y.length - x.length).join('|');
const prefixPattern = PREFIXES.sort((x, y) => y.length - x.length).join('|');
const ANNOTATION = '\\{[^{}]*\\}';
const COMPONENT = new RegExp(`^(?:(?:(?:${prefixPattern})?(?:${atomPattern})-?\\d*)(?:${ANNOTATION})?|${ANNOTATION}|\\d+)$`);

/** True when `unit` reads as a UCUM code (common atoms, prefixes, `.` `/` exponents, annotations). */
export function looksLikeUcum(unit: string): boolean {
  if (unit === '' || /\s/.test(unit)) return false;
  const body = unit.startsWith('/') ? unit.slice(1) : unit;
  return body.split(/[./](?![^{]*\})/).every((c) => COMPONENT.test(c));
}

/** A warning for a unit that is not UCUM, naming the code to use when the spelling is a known one; null when fine. */
export function unitWarning(unit: string): string | null {
  if (looksLikeUcum(unit) && SUGGEST[unit] === undefined) return null;
  const use = SUGGEST[unit] ?? SUGGEST[unit.toLowerCase()];
  if (use !== undefined && use === unit) return null;
  return use !== undefined
    ? `unit "${unit}" is not a UCUM code: central systems expect "${use}" (docs/payload.md, units)`
    : `unit "${unit}" does not read as a UCUM code (docs/payload.md, units); central systems compare units as text, so use the UCUM code (this check knows common codes only: ignore it for a rare valid one)`;
}

/** Every `unit:` string in a parsed device config, with its path, e.g. `registers[3].unit`. */
export function unitsIn(value: unknown, path: PropertyKey[] = []): Array<{ path: PropertyKey[]; unit: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => unitsIn(v, [...path, i]));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === 'unit' && typeof v === 'string' ? [{ path: [...path, k], unit: v }] : unitsIn(v, [...path, k]),
  );
}
