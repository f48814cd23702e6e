import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outboxContract } from '../../test-rigs/outbox-contract.js';
import { Outbox } from './outbox.js';

outboxContract('SQLite outbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-contract-'));
  const store = new Outbox({ path: join(dir, 'outbox.db'), durability: 'normal', rowMaxReadings: 100, retention: { maxBytes: 1e9, maxAgeMs: 86400e3 } });
  return {
    store,
    dispose: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
