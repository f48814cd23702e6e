import { describe, expect, it } from 'vitest';
import { redactUrl, splitBrokerUrl } from './broker-url.js';

describe('broker URL credentials', () => {
  it('redacts the whole userinfo, up to the last @, whatever the password holds', () => {
    expect(redactUrl('mqtt://u:Pa@ss@broker:1883')).toBe('mqtt://***@broker:1883');
    expect(redactUrl('mqtts://u:pa/ss@broker.city.example:8883')).toBe('mqtts://***@broker.city.example:8883');
    expect(redactUrl('ws://u:a@b/c@broker/mqtt')).toBe('ws://***@broker/mqtt');
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883');
  });

  it('splits credentials out so no library ever parses a password', () => {
    expect(splitBrokerUrl('mqtt://u:Pa@ss@broker:1883')).toEqual({ url: 'mqtt://broker:1883', username: 'u', password: 'Pa@ss' });
    expect(splitBrokerUrl('mqtt://u:pa/ss@127.0.0.1:1883/')).toEqual({ url: 'mqtt://127.0.0.1:1883/', username: 'u', password: 'pa/ss' });
    expect(splitBrokerUrl('mqtt://u%40x:p%2Fw@h')).toEqual({ url: 'mqtt://h', username: 'u@x', password: 'p/w' });
    expect(splitBrokerUrl('mqtt://only-user@h:1')).toEqual({ url: 'mqtt://h:1', username: 'only-user' });
    expect(splitBrokerUrl('mqtt://u:100%@h')).toEqual({ url: 'mqtt://h', username: 'u', password: '100%' });
    expect(splitBrokerUrl('mqtts://h:8883')).toEqual({ url: 'mqtts://h:8883' });
  });
});
