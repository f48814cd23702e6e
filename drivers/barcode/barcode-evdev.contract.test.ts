import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { FifoDevice } from '../../test-rigs/evdev/fifo-device.js';
import { scanBytes } from '../../test-rigs/evdev/input-events.js';
import { hostLayout } from './evdev/input-event.js';
import { EmitterLoop } from '../../test-rigs/scanner-sim/emitter-loop.js';
import { createBarcodeEvdevDriver } from './evdev-driver.js';
import { barcodeEvdevDeviceSchema } from './schema.js';

driverContractSuite('barcode-evdev', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edge-evdev-contract-'));
  const dev = new FifoDevice(join(dir, 'usb-Scanner-event-kbd'));
  await dev.plug();
  let plugged = true;
  const loop = new EmitterLoop((n) => dev.write(scanBytes(`P${String(n).padStart(8, '0')}`, hostLayout())));
  const cfg = barcodeEvdevDeviceSchema.parse({
    id: 'contract-evdev',
    type: 'barcode-evdev',
    path: dev.path,
    // eventLayout left at auto: the rig writes the layout of this host, as the kernel would.
    reopen: { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 },
  });
  return {
    create: (ctx) => createBarcodeEvdevDriver(cfg, ctx),
    healthy: async () => {
      if (!plugged) await dev.plug();
      plugged = true;
      loop.start();
    },
    breakDevice: async () => {
      await loop.stop();
      await dev.unplug();
      plugged = false;
    },
    teardown: async () => {
      await loop.stop();
      await dev.unplug();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
