import { describe, expect, it } from 'vitest';
import { gatewayFileSchema } from './gateway-schema.js';

const base = { gateway: { id: 'gw-1' }, mqtt: { urls: ['mqtt://b:1883'], topicPrefix: 'city' } };
const parse = (site: unknown) => gatewayFileSchema.safeParse({ ...base, gateway: { id: 'gw-1', site } });

describe('gateway.site', () => {
  it('takes the older bare name and the object form, and normalises to the object', () => {
    expect(parse('Main & 5th').data?.gateway.site).toEqual({ name: 'Main & 5th' });
    const full = { id: 'X-17', name: 'Main & 5th', latitude: 52.52, longitude: 13.405, timeZone: 'Europe/Berlin' };
    expect(parse(full).data?.gateway.site).toEqual(full);
  });

  it('refuses an unknown time zone, half a position and unknown keys', () => {
    expect(parse({ timeZone: 'Mars/Olympus' }).error?.issues[0]?.message).toMatch(/IANA time zone/);
    expect(parse({ latitude: 52.5 }).success).toBe(false);
    expect(parse({ latitude: 91, longitude: 0 }).success).toBe(false);
    expect(parse({ city: 'x' }).success).toBe(false);
  });
});
