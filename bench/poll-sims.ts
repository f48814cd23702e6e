import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';

/**
 * Child process of the poll-path benchmark: hosts N Modbus TCP simulators (each its own TCP
 * server, answering as soon as a request is read, no timers on the request path) so that their
 * CPU is measured apart from the daemon's and from the subscriber's.
 *   node dist/bench/poll-sims.js <devices> <registers> <stepMs>
 * Prints one JSON line `{ "ports": [...] }`, then serves until SIGTERM.
 */
const [devices, registers, stepMs] = process.argv.slice(2).map(Number) as [number, number, number];
const sims: ModbusTcpSimulator[] = [];
for (let d = 0; d < devices; d++) {
  // Counters, so every poll reads new values, as live detectors and meters give.
  const dynamics = Array.from({ length: registers }, (_, i) => ({ table: 'holding' as const, address: i, kind: 'counter' as const, start: d * 1000 + i * 10 }));
  sims.push(await startModbusTcpSimulator({ units: { 1: { dynamics } }, stepMs }));
}
process.stdout.write(`${JSON.stringify({ ports: sims.map((s) => s.port), host: sims[0]?.host ?? '127.0.0.1' })}\n`);
process.once('SIGTERM', () => {
  void Promise.all(sims.map((s) => s.stop())).finally(() => process.exit(0));
});
