import { z } from 'zod';

/** Line/code terminators by name, or `{ custom: "\u0003" }` for devices with their own (ETX...). */
export const terminatorSchema = z.union([
  z.enum(['LF', 'CR', 'CRLF', 'TAB']),
  z.object({ custom: z.string().min(1).max(8) }).strict(),
]);

export type TerminatorConfig = z.output<typeof terminatorSchema>;

const NAMED: Record<'LF' | 'CR' | 'CRLF' | 'TAB', string> = { LF: '\n', CR: '\r', CRLF: '\r\n', TAB: '\t' };

export function terminatorBytes(t: TerminatorConfig): Buffer {
  return Buffer.from(typeof t === 'string' ? NAMED[t] : t.custom, 'latin1');
}
