import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outboxContract } from '../../test-rigs/outbox-contract.js';
import { Outbox } from './outbox.js';

for (const claimFromMemory of [true, false]) {
  outboxContract(`SQLite outbox${claimFromMemory ? '' : ', claims read from SQLite only'}`, ({ encoder, rowMaxReadings }) => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-contract-'));
    const store = new Outbox({ path: join(dir, 'outbox.db'), durability: 'normal', encoder, rowMaxReadings, retention: { maxBytes: 1e9, maxAgeMs: 86400e3 }, claimFromMemory });
    return {
      store,
      dispose: () => {
        store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
