import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { startModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { modbusTcpDeviceSchema } from './schema.js';
import { createModbusTcpDriver } from './tcp-driver.js';

/** The shared driver contract, against the real simulator over loopback TCP, with two ways to break. */
for (const breakWith of ['refuse', 'silence', 'exception'] as const) {
  driverContractSuite(`modbus-tcp (${breakWith})`, async () => {
    const sim = await startModbusTcpSimulator({ units: { 1: { dynamics: [{ table: 'holding', address: 0, kind: 'counter' }] } } });
    sim.unit(1).setRegisters('holding', 10, [0x41ac, 0x0000]); // 21.5 as float32 ABCD
    const config = modbusTcpDeviceSchema.parse({
      id: 'contract-plc',
      type: 'modbus-tcp',
      host: sim.host,
      port: sim.port,
      intervalMs: 50,
      timeoutMs: 200,
      registers: [
        { name: 'counter', address: 0, type: 'uint16' },
        { name: 'temperature', address: 10, type: 'float32', unit: 'Cel' },
        { name: 'pump-on', table: 'coil', address: 3, type: 'bool' },
      ],
    });
    return {
      create: (ctx) => createModbusTcpDriver(config, ctx),
      async healthy() {
        sim.clearFault(1);
        await sim.restore();
      },
      async breakDevice() {
        if (breakWith === 'refuse') await sim.refuse();
        else if (breakWith === 'silence') sim.setFault(1, { kind: 'silence' });
        else sim.setFault(1, { kind: 'exception', code: 4 });
      },
      emitsPacked: true,
      teardown: () => sim.stop(),
    };
  });
}
