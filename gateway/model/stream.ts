/**
 * The two streams every reading travels in: `event` (scans, state changes; claimed ahead of a
 * telemetry backlog and evicted last) and `telemetry` (periodic bulk data). One sequence covers
 * both, so a gap stays detectable across them.
 */
export type Stream = 'event' | 'telemetry';
