import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { EmitterLoop } from '../../test-rigs/scanner-sim/emitter-loop.js';
import { weatherLine } from '../../test-rigs/scanner-sim/line-sensor.js';
import { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { createPtyPair } from '../../test-rigs/serial/pty.js';
import { createSerialLineDriver } from './driver.js';
import { serialLineDeviceSchema } from './schema.js';

driverContractSuite('serial-line', async () => {
  const pair = await createPtyPair();
  const writer = new PtyWriter(pair.b);
  let plugged = true;
  const loop = new EmitterLoop((n) => writer.write(weatherLine({ tempC: 20 + (n % 5), humidityPct: 50, windMs: 1, pressureHpa: 1013 }) + '\r\n'));
  const cfg = serialLineDeviceSchema.parse({
    id: 'contract-ws',
    type: 'serial-line',
    port: { path: pair.a, reopen: { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 } },
    staleAfterMs: 500,
    parse: { kind: 'regex', pattern: '^WS T=(?<temp>\\S+) H=(?<hum>\\S+)', fields: { temp: { unit: 'degC' }, hum: { unit: '%' } } },
  });
  return {
    create: (ctx) => createSerialLineDriver(cfg, ctx),
    emitsPacked: true,
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
