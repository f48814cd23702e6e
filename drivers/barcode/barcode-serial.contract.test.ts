import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { EmitterLoop } from '../../test-rigs/scanner-sim/emitter-loop.js';
import { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { scanFrame } from '../../test-rigs/scanner-sim/scanner.js';
import { createPtyPair } from '../../test-rigs/serial/pty.js';
import { barcodeSerialDeviceSchema } from './schema.js';
import { createBarcodeSerialDriver } from './serial-driver.js';

driverContractSuite('barcode-serial', async () => {
  const pair = await createPtyPair();
  const writer = new PtyWriter(pair.b);
  let plugged = true;
  // Distinct tickets, so duplicate suppression does not swallow them.
  const loop = new EmitterLoop((n) => writer.write(scanFrame({ code: `T${String(n).padStart(6, '0')}`, aim: ']C0', terminator: '\r' })));
  const cfg = barcodeSerialDeviceSchema.parse({
    id: 'contract-scanner',
    type: 'barcode-serial',
    port: { path: pair.a, reopen: { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 } },
    gate: 'g1',
    direction: 'entry',
  });
  return {
    create: (ctx) => createBarcodeSerialDriver(cfg, ctx),
    healthy: async () => {
      if (!plugged) await pair.replug();
      plugged = true;
      loop.start();
    },
    breakDevice: async () => {
      await loop.stop();
      await writer.close();
      if (plugged) await pair.unplug();
      plugged = false;
    },
    teardown: async () => {
      await loop.stop();
      await writer.close();
      await pair.close();
    },
  };
});
