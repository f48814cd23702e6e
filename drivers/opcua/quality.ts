import type { Quality } from '../../gateway/model/reading.js';

/**
 * OPC-UA StatusCode severity lives in the top two bits (Part 4, 7.39): 00 Good, 01 Uncertain,
 * 10/11 Bad. Sub-codes and info bits below do not change the class.
 */
export function qualityFromStatusCode(code: number): Quality {
  const severity = (code >>> 30) & 0b11;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}
