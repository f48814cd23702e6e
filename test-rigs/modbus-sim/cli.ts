#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { startModbusTcpSimulator } from './server.js';
import { demoUnitOptions, fillDemoValues } from './demo-map.js';

/**
 * Standalone simulator for the demo and for poking at the driver by hand:
 *   node dist/test-rigs/modbus-sim/cli.js --port 5020 --units 1,2
 * Prints one JSON line with the bound port, then serves until SIGINT/SIGTERM.
 */

function unitList(value: string): number[] {
  const ids = value.split(',').map((s) => Number(s.trim()));
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new InvalidArgumentError(`unit id "${id}" is not an integer 0..255`);
  }
  return ids;
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`port "${value}" is not 0..65535`);
  return port;
}

const program = new Command()
  .name('modbus-sim')
  .description('Modbus TCP simulator (FC 1-6, 15, 16) with changing demo values')
  .option('--host <host>', 'address to listen on (loopback by default)', '127.0.0.1')
  .option('--port <port>', 'TCP port, 0 = any free port', portNumber, 5020)
  .option('--units <ids>', 'comma-separated unit ids', unitList, [1])
  .option('--step-ms <ms>', 'how often the demo values change', portNumber, 1000)
  .parse();

const o = program.opts<{ host: string; port: number; units: number[]; stepMs: number }>();
const sim = await startModbusTcpSimulator({
  host: o.host,
  port: o.port,
  units: Object.fromEntries(o.units.map((id) => [id, demoUnitOptions()])),
  stepMs: o.stepMs,
});
for (const id of o.units) fillDemoValues(sim.unit(id), id);
process.stdout.write(`${JSON.stringify({ msg: 'modbus simulator listening', host: sim.host, port: sim.port, units: o.units })}\n`);

const shutdown = () => {
  void sim.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
