import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { startRtuRig } from '../../test-rigs/modbus-rtu-sim/rig.js';
import { createModbusRtuDriver } from './rtu-driver.js';
import { modbusRtuDeviceSchema } from './schema.js';

/** The shared driver contract against the RTU bus simulator on a real pty, broken three ways. */
for (const breakWith of ['silence', 'crc', 'unplug'] as const) {
  driverContractSuite(`modbus-rtu (${breakWith})`, async () => {
    const rig = await startRtuRig({ units: { 3: { dynamics: [{ table: 'holding', address: 0, kind: 'counter' }] } } });
    rig.sim.unit(3).setRegisters('holding', 10, [0x41ac, 0x0000]); // 21.5 as float32 ABCD
    const config = modbusRtuDeviceSchema.parse({
      id: 'contract-rtu',
      type: 'modbus-rtu',
      port: { path: rig.path, baudRate: 19200, parity: 'even', reopen: { initialDelayMs: 50, maxDelayMs: 200, watchIntervalMs: 100 } },
      unitId: 3,
      intervalMs: 50,
      timeoutMs: 100,
      breaker: { minBackoffMs: 100, maxBackoffMs: 400 },
      registers: [
        { name: 'counter', address: 0, type: 'uint16' },
        { name: 'temperature', address: 10, type: 'float32', unit: 'Cel' },
        { name: 'pump-on', table: 'coil', address: 3, type: 'bool' },
      ],
    });
    let unplugged = false;
    return {
      create: (ctx) => createModbusRtuDriver(config, ctx),
      async healthy() {
        rig.sim.clearFault(3);
        if (unplugged) {
          unplugged = false;
          await rig.replug();
        }
      },
      async breakDevice() {
        if (breakWith === 'unplug') {
          unplugged = true;
          await rig.unplug();
        } else {
          rig.sim.setFault(3, { kind: breakWith });
        }
      },
      emitsPacked: true,
      teardown: () => rig.close(),
    };
  });
}
