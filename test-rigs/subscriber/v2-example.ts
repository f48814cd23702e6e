/** The example batch of docs/payload.md, section "v2: poll records": a fresh copy per call, for tests to alter. */
export const V2_EXAMPLE_LAYOUT = '5d1f0c9a7e21';

export type V2Example = Record<string, unknown> & { layouts?: Record<string, Record<string, unknown>>; readings: Record<string, unknown>[] };

export function v2Example(): V2Example {
  return {
    v: 2,
    gateway: 'main-5th',
    outbox: '3f0c6a52-8d0e-4d7e-9a51-0c1d8c7e4b1a',
    batch: 'a1b2c3d4-42',
    firstSeq: 1001,
    lastSeq: 1007,
    count: 7,
    sentAt: 1764061200123,
    layouts: {
      [V2_EXAMPLE_LAYOUT]: { device: 'signal-controller', points: ['det1.count', 'det2.count', 'cabinet.temp'], units: ['vehicles', 'vehicles', 'degC'] },
    },
    readings: [
      { seq: 1001, layout: V2_EXAMPLE_LAYOUT, ts: 1764061200050, values: [17, 4, 31.5] },
      { seq: 1004, device: 'signal-controller', point: 'lamp.fault', value: null, quality: 'bad', ts: 1764061200050 },
      { seq: 1005, layout: V2_EXAMPLE_LAYOUT, ts: 1764061200150, values: [18, 4, 31.5], clock: 'unsynced' },
    ],
  };
}
