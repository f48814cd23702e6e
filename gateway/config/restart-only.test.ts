import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayFileSchema } from './gateway-schema.js';
import { Secret } from '../../drivers/kit/secret.js';
import { changedSettings, restartOnlyPaths } from './restart-only.js';

describe('restart-only settings', () => {
  it('are read from the schema metadata: the sections and outbox settings a running daemon cannot change', () => {
    expect(restartOnlyPaths(gatewayFileSchema).sort()).toEqual(
      [
        'gateway',
        'mqtt',
        'forward',
        'control',
        'clock',
        'commands',
        'drivers',
        'outbox.path',
        'outbox.durability',
        'outbox.maxFileBytes',
        'outbox.reserveBytes',
        'outbox.keepAcked',
        'outbox.keepAckedMaxBytes',
        'outbox.commitInterval',
        'outbox.commitMaxReadings',
        'outbox.rowMaxReadings',
      ].sort(),
    );
  });

  it('are marked in the published JSON Schema, so editors and docs show the same list', () => {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../config/schema/gateway.schema.json'), 'utf8')) as {
      properties: Record<string, { requiresRestart?: boolean; properties?: Record<string, { requiresRestart?: boolean }> }>;
    };
    expect(schema.properties.mqtt!.requiresRestart).toBe(true);
    expect(schema.properties.forward!.requiresRestart).toBe(true);
    expect(schema.properties.outbox!.properties!.commitInterval!.requiresRestart).toBe(true);
    expect(schema.properties.outbox!.properties!.retention!.requiresRestart).toBeUndefined();
    expect(schema.properties.health!.requiresRestart).toBeUndefined();
  });

  it('count a changed broker password (a Secret, printed as [redacted]) as a change, an unchanged one not', () => {
    const file = (password: string, retention = 1) => ({ mqtt: { urls: ['mqtt://b'], passwordFile: new Secret(password) }, outbox: { path: 'o.db', retention } });
    expect(changedSettings(['mqtt', 'outbox.path'], file('old'), file('old', 2))).toEqual([]);
    expect(changedSettings(['mqtt', 'outbox.path'], file('old'), file('rotated'))).toEqual(['mqtt']);
  });
});
