import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { templateDriver } from './module.js';

// TEMPLATE: the device here is a real file; use your family's simulator from test-rigs/ instead.
driverContractSuite('template', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'template-driver-'));
  const path = join(dir, 'value');
  const cfg = templateDriver.schema.parse({ id: 'contract-template', type: 'template', path, point: 'temp', unit: 'degC', scale: 0.001, intervalMs: 50 });
  const create = await templateDriver.load();
  return {
    create: (ctx) => create(cfg, ctx),
    async healthy() {
      writeFileSync(path, '41500\n');
    },
    async breakDevice() {
      rmSync(path, { force: true });
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
