import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startBroker } from '../broker/broker.js';
import { writeConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { demoUnitOptions, fillDemoValues } from '../modbus-sim/demo-map.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { runParkingDemo } from './parking.js';
import { DemoView } from './view.js';

/**
 * `npm run demo`: the whole data path on one machine. Simulated Modbus TCP devices → the real
 * gateway daemon (child process, real config dir, real SQLite outbox) → a real MQTT broker
 * (mosquitto when installed, else an embedded aedes) → a subscriber that shows what arrives.
 *
 *   npm run demo                         run until Ctrl-C
 *   npm run demo -- --duration 20        stop by itself after 20 s
 *   npm run demo -- --outage             stop the broker for 8 s, 10 s in: watch the queue grow and drain
 *   npm run demo -- --parking            a car park exit: scanner -> gateway -> command centre -> barrier (parking.ts; 30 s unless --duration)
 */
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    outage: { type: 'boolean', default: false },
    devices: { type: 'string', default: '4' },
    parking: { type: 'boolean', default: false },
  },
});
const durationS = args.duration === undefined ? Infinity : Number(args.duration);
const deviceCount = Math.max(1, Math.min(32, Number(args.devices)));

const DEVICE_NAMES = ['signal-main-5th', 'signal-main-6th', 'parking-north', 'parking-south', 'ramp-meter', 'tunnel-fans'];

async function main(): Promise<void> {
  if (args.parking) process.exit((await runParkingDemo(Number.isFinite(durationS) ? durationS : 30)) ? 0 : 1);
  // Persistence: the demo subscriber's session (and what queues for it) survives the --outage restart,
  // as a central system's broker must be set up (docs/payload.md).
  // Own process groups: Ctrl-C reaches only this process, which stops the gateway (one SIGTERM: a
  // second signal would make it exit without flushing) and then the broker, in that order.
  const broker = await startBroker({ persistence: true, ownProcessGroup: true });
  const sims: ModbusTcpSimulator[] = [];
  const devices: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < deviceCount; i++) {
    const sim = await startModbusTcpSimulator({ units: { 1: demoUnitOptions() }, stepMs: 250 });
    fillDemoValues(sim.unit(1), i + 1);
    sims.push(sim);
    devices[DEVICE_NAMES[i] ?? `device-${i + 1}`] = {
      type: 'modbus-tcp',
      host: sim.host,
      port: sim.port,
      unitId: 1,
      intervalMs: 250,
      timeoutMs: 500,
      registers: [
        { name: 'vehicles', table: 'holding', address: 0, type: 'uint16', unit: 'count' },
        { name: 'flow', table: 'input', address: 0, type: 'int16', scale: 0.01, unit: 'm3/s' },
        { name: 'temperature', table: 'holding', address: 100, type: 'float32', unit: 'degC' },
        { name: 'total', table: 'holding', address: 102, type: 'uint32', wordOrder: 'little' },
        { name: 'door.open', table: 'coil', address: 0, type: 'bool' },
      ],
    };
  }
  const config = writeConfigDir({ gatewayId: 'demo-gw', topicPrefix: 'city', brokerUrls: [broker.url], devices });
  const gateway = GatewayProcess.start(config.dir, { ownProcessGroup: true });

  const view = new DemoView({ gatewayId: config.gatewayId, broker: `${broker.kind} ${broker.url}`, configDir: config.dir });
  const sub = await mqtt.connectAsync(broker.url, { clientId: `demo-subscriber-${process.pid}`, clean: false });
  sub.on('message', (topic, payload) => view.onMessage(topic, payload));
  await sub.subscribeAsync(`${config.topicPrefix}/${config.gatewayId}/#`, { qos: 1 });

  let stopping = false;
  const started = Date.now();
  const outageAt = args.outage ? 10_000 : Infinity;
  let outage: 'before' | 'down' | 'after' = 'before';
  const tick = setInterval(async () => {
    const t = Date.now() - started;
    if (outage === 'before' && t >= outageAt) {
      outage = 'down';
      view.note('broker stopped for 8 s: the gateway keeps committing to its outbox');
      await broker.stop();
      setTimeout(async () => {
        await broker.start();
        outage = 'after';
        view.note('broker back: the backlog drains in order');
      }, 8000);
    }
    view.render();
    if (t >= durationS * 1000) void shutdown();
  }, 1000);

  async function shutdown(): Promise<void> {
    if (stopping) return;
    stopping = true;
    clearInterval(tick);
    const exit = await gateway.stop();
    // Let the last batches and the retained offline status arrive before judging.
    await new Promise((r) => setTimeout(r, 500));
    await sub.endAsync();
    await Promise.all(sims.map((s) => s.stop()));
    await broker.dispose();
    const ok = view.summary(exit);
    if (exit.code !== 0) {
      process.stderr.write(`[demo] gateway stderr:\n${gateway.stderr.slice(-20).join('\n')}\n`);
      const errors = gateway.logs.filter((l) => l.level >= 50).slice(-10);
      process.stderr.write(`[demo] gateway errors:\n${errors.map((l) => JSON.stringify(l)).join('\n')}\n`);
    }
    rmSync(config.dir, { recursive: true, force: true });
    process.exit(ok ? 0 : 1);
  }
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
