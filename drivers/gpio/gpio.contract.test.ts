import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { FakeGpio } from '../../test-rigs/fake-gpio/fake-pins.js';
import { gpioDriverFactory } from './driver.js';
import { gpioDeviceSchema } from './schema.js';

// GPIO cannot exist here, so the fake lines stand in for the Pi; the driver logic is the real one.
driverContractSuite('gpio', async () => {
  const gpio = new FakeGpio();
  let pulses: NodeJS.Timeout | null = null;
  const cfg = gpioDeviceSchema.parse({
    id: 'contract-gpio',
    type: 'gpio',
    inputs: [
      { name: 'loop1', pin: 17, mode: 'counter', debounceMs: 0, intervalMs: 100 },
      { name: 'door', pin: 5, activeLow: true, debounceMs: 5 },
      { name: 'bay', pin: 6, mode: 'duration', debounceMs: 0, intervalMs: 100 },
    ],
  });
  return {
    create: (ctx) => gpioDriverFactory({ pinSource: gpio, reconcileMs: 50, retryMs: 200 })(cfg, ctx),
    emitsPacked: true,
    async healthy() {
      gpio.heal();
      pulses ??= setInterval(() => gpio.set(17, gpio.level(17) === 1 ? 0 : 1), 20);
    },
    async breakDevice() {
      gpio.breakAll('EIO');
    },
    async teardown() {
      if (pulses) clearInterval(pulses);
      pulses = null;
    },
  };
});
