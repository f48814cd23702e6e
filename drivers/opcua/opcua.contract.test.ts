import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { OpcuaTestServer, freeLoopbackPort } from '../../test-rigs/opcua-server/server.js';
import { createOpcuaDriver } from './driver.js';
import { opcuaDeviceSchema } from './schema.js';

// One PKI folder for the whole file: certificates are generated once, not per test.
const pkiDir = mkdtempSync(path.join(os.tmpdir(), 'opcua-contract-'));
afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

driverContractSuite('opcua', async () => {
  const port = await freeLoopbackPort();
  const server = new OpcuaTestServer({ pkiDir, port, tickMs: 50 });
  const cfg = opcuaDeviceSchema.parse({
    id: 'contract-opcua',
    type: 'opcua',
    endpointUrl: `opc.tcp://127.0.0.1:${port}`,
    pkiDir: path.join(pkiDir, 'client'),
    trustUnknownServerCertificate: true,
    publishingIntervalMs: 100,
    keepAliveCount: 5,
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    items: [
      { nodeId: 'ns=1;s=Counter', point: 'counter', unit: '{ticks}', samplingIntervalMs: 50 },
      { nodeId: 'ns=1;s=Flag', point: 'flag', samplingIntervalMs: 50 },
    ],
  });
  return {
    create: (ctx) => createOpcuaDriver(cfg, ctx),
    emitsPacked: true,
    healthy: () => server.start(),
    breakDevice: () => server.stop(),
    teardown: () => server.stop(),
  };
});
