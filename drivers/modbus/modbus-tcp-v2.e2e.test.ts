import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../test-rigs/broker/broker.js';
import { freeLoopbackPort } from '../../test-rigs/broker/port.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { collectRawBatches } from '../../test-rigs/subscriber/raw-batches.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';
import { startModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';

/**
 * Payload v2 (poll records, docs/payload.md) through the whole data path: simulator -> real
 * daemon with `forward.payloadVersion: 2` -> SQLite outbox -> mosquitto -> the reference
 * subscriber, with every published batch checked against the published contract. Also rule 7:
 * a backlog committed as v2 still goes out as v2 after the gateway is set back to v1.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


const registers = [
  { name: 'temperature', address: 100, type: 'float32', unit: 'Cel' },
  { name: 'count', address: 102, type: 'uint16' },
  { name: 'door.open', table: 'coil', address: 0, type: 'bool' },
];

describe('modbus-tcp end to end, payload v2', () => {
  it('good polls arrive as records, an outage as v1 bad readings in v2 batches, nothing missing', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const sim = await startModbusTcpSimulator({ units: [5], clock: 'manual' });
    cleanups.push(() => sim.stop());
    sim.unit(5).setRegisters('holding', 100, [0x41ac, 0x0000]); // 21.5 as float32 ABCD
    sim.unit(5).setRegisters('holding', 102, [7]);
    sim.unit(5).setBits('coil', 0, [true]);

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      gateway: { forward: { payloadVersion: 2 } },
      devices: { 'cabinet-plc': { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: 5, intervalMs: 100, timeoutMs: 300, registers } },
    });
    const raw = await collectRawBatches(broker.url, `${config.topicPrefix}/${config.gatewayId}/telemetry`);
    cleanups.push(() => raw.stop());
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `modbus-v2-e2e-${process.pid}`);
    cleanups.push(stop);

    const plc = () => sub.readings.filter((r) => r.device === 'cabinet-plc');
    await sub.waitFor(() => plc().filter((r) => r.point === 'temperature' && r.value === 21.5).length >= 3, 20_000);
    // The subscriber sees plain readings, expanded from the records.
    expect(plc().find((r) => r.point === 'temperature')).toMatchObject({ unit: 'Cel', quality: 'good', value: 21.5 });
    expect(plc().find((r) => r.point === 'count')).toMatchObject({ quality: 'good', value: 7 });
    expect(plc().find((r) => r.point === 'count')).not.toHaveProperty('unit');
    expect(plc().some((r) => r.point === 'door.open' && r.value === true)).toBe(true);

    await sim.refuse();
    await sub.waitFor(() => plc().filter((r) => r.quality === 'bad').length >= 3, 20_000);
    await sim.restore();
    const seen = plc().length;
    await sub.waitFor(() => plc().length >= seen + 9, 20_000);
    expect((await gw.stop()).code).toBe(0);

    // On the wire: v2 everywhere, good polls as records naming a published layout, bad values as v1 objects.
    expect(raw.problems).toEqual([]);
    expect(raw.batches.length).toBeGreaterThan(0);
    expect(raw.batches.every((b) => b.v === 2)).toBe(true);
    const items = raw.batches.flatMap((b) => b.readings);
    const records = items.filter((i) => 'layout' in i);
    expect(records.length).toBeGreaterThan(3);
    // The outage: one bad v1 reading per point (the bad-once policy), inside v2 batches.
    expect(items.filter((i) => i.quality === 'bad').map((i) => i.point).sort()).toEqual(['count', 'door.open', 'temperature']);
    const layouts = Object.assign({}, ...raw.batches.map((b) => b.layouts ?? {})) as Record<string, { device: string; points: string[]; units?: (string | null)[] }>;
    expect(Object.values(layouts).flatMap((l) => l.points).sort()).toEqual(['count', 'door.open', 'temperature']);
    expect(sub.malformed).toEqual([]);
    expect(sub.tracker.summary().gaps).toEqual([]);
    expect(sub.tracker.summary().reused).toBe(0);
  });

  it('a backlog committed as v2 drains as v2 after the gateway is set back to v1, then v1 follows, with no gap', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const sim = await startModbusTcpSimulator({ units: [1] });
    cleanups.push(() => sim.stop());
    const dead = `mqtt://127.0.0.1:${await freeLoopbackPort()}`;
    const config = writeConfigDir({
      brokerUrls: [dead],
      gateway: { forward: { payloadVersion: 2 } },
      devices: { plc: { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: 1, intervalMs: 50, timeoutMs: 300, registers: registers.slice(1, 2) } },
    });
    // Offline: everything polled is committed as v2 records and waits in the outbox.
    const offline = GatewayProcess.start(config.dir);
    cleanups.push(() => offline.stop());
    await offline.ready();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await offline.stop()).code).toBe(0);

    const file = join(config.dir, 'gateway.yaml');
    const yaml = parse(readFileSync(file, 'utf8')) as { mqtt: { urls: string[] }; forward: { payloadVersion: number } };
    yaml.mqtt.urls = [broker.url];
    yaml.forward.payloadVersion = 1;
    writeFileSync(file, stringify(yaml));

    const raw = await collectRawBatches(broker.url, `${config.topicPrefix}/${config.gatewayId}/telemetry`);
    cleanups.push(() => raw.stop());
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `modbus-v2-back-${process.pid}`);
    cleanups.push(stop);
    await sub.waitFor(() => raw.batches.some((b) => b.v === 1) && raw.batches.some((b) => b.v === 2), 20_000);
    const firstV1 = raw.batches.findIndex((b) => b.v === 1);
    await sub.waitFor(() => raw.batches.length >= firstV1 + 3, 20_000);
    expect((await gw.stop()).code).toBe(0);

    expect(raw.problems).toEqual([]);
    // The v2 backlog first (in order), then only v1.
    expect(raw.batches.slice(0, firstV1).every((b) => b.v === 2)).toBe(true);
    expect(raw.batches.slice(firstV1).every((b) => b.v === 1)).toBe(true);
    expect(firstV1).toBeGreaterThan(0);
    expect(sub.malformed).toEqual([]);
    const summary = sub.tracker.summary();
    expect(summary.gaps).toEqual([]);
  });
});
