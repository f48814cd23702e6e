import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterEach, expect, it } from 'vitest';
import { describeAsRoot } from '../../test-rigs/system/root.js';
import { JOURNAL_FILE } from '../../gateway/commands/channel.js';
import { startBroker } from '../../test-rigs/broker/broker.js';
import { gpioNamespaceWrapper, readGpioFile } from '../../test-rigs/fake-gpio/sysfs-namespace.js';
import { PI4_CHIPS_6_6 } from '../../test-rigs/fake-gpio/sysfs-tree.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { startSubscriber } from '../../test-rigs/subscriber/subscriber.js';

/**
 * GPIO outputs end to end: a command centre's pulse -> mosquitto -> the real daemon -> onoff ->
 * sysfs files, in the daemon's own mount namespace with a fake /sys/class/gpio
 * (test-rigs/fake-gpio/sysfs-namespace.ts). The files the daemon wrote are the ground truth.
 *
 * The fake lines are plain tmpfs files, not the kernel's: writing `low`/`high` to `direction`
 * (how onoff makes a line an output at a level in one write) stays in the file as written, where
 * the kernel would show `out` and set `value`. So `direction` reading `low`/`high` is "out, at
 * that initial level", and `value` changes only by the daemon's own writes.
 *
 * Needs root (unshare, mount): as another user the suite is skipped and named under NOT RUN at the
 * end of `npm test` (test-rigs/system/root.ts), never passed.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

// PI4_CHIPS_6_6: pinctrl-bcm2711 at base 512, so BCM 23 = sysfs 535 and BCM 24 = sysfs 536.
const GATE = 535;
const LAMP = 536;

/** The last byte-level content of a file held open by fd (it outlives the namespace that mounted it). */
function readFd(fd: number): string {
  const buf = Buffer.alloc(16);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString('utf8').trim();
}

describeAsRoot('GPIO outputs end to end (mosquitto, real daemon, onoff on a fake sysfs in a mount namespace)', () => {
  it('drives outputs to their initial level, pulses the barrier 1 then 0 on a command, reports executed, and on SIGTERM mid-pulse sets the shutdown levels and records the pulse cut short', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const config = writeConfigDir({
      brokerUrls: [broker.url],
      gateway: { commands: { enabled: true, maxExpiryAhead: '1m' } },
      devices: {
        'exit-barrier': {
          type: 'gpio',
          outputs: [
            { name: 'gate', pin: 23, pulse: { minMs: 100, maxMs: 2000, defaultMs: 800 }, pulseOnly: true, minInterval: 0 },
            // A "gateway running" lamp on a relay board that switches on low: lit (line low) from
            // start, dark (line high) once the gateway stops.
            { name: 'running-lamp', pin: 24, activeLow: true, initial: 'active', atShutdown: 'inactive' },
          ],
        },
      },
    });
    const sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: `gpio-e2e-sub-${process.pid}`, clean: true, keepReadings: true });
    cleanups.push(() => sub.stop());
    const gw = GatewayProcess.start(config.dir, { wrapper: gpioNamespaceWrapper(PI4_CHIPS_6_6, [GATE, LAMP]), args: ['--allow-root'] });
    cleanups.push(() => gw.stop());
    await gw.ready();
    await gw.waitForLog((l) => l.msg === 'subscribed');

    // Initial levels, set with the direction: the gate inactive (active high: low), the lamp
    // active (active low: low as well).
    expect(readGpioFile(gw.pid, GATE, 'direction')).toBe('low');
    expect(readGpioFile(gw.pid, GATE, 'value')).toBe('0');
    expect(readGpioFile(gw.pid, LAMP, 'direction')).toBe('low');

    const samples: string[] = [readGpioFile(gw.pid, GATE, 'value')];
    const sampler = setInterval(() => samples.push(readGpioFile(gw.pid, GATE, 'value')), 10);
    cleanups.push(() => clearInterval(sampler));

    const centre = await mqtt.connectAsync(broker.url, { clientId: `gpio-e2e-centre-${process.pid}` });
    cleanups.push(() => centre.endAsync());
    const cmd = { v: 1, id: 'open-1', device: 'exit-barrier', point: 'gate', action: 'pulse', durationMs: 300, expiresAt: Date.now() + 20_000 };
    await centre.publishAsync(`${config.topicPrefix}/${config.gatewayId}/commands`, JSON.stringify(cmd), { qos: 1 });

    const outcomes = () => sub.readings.filter((x) => x.device === '_gateway' && x.point === 'command' && x.attrs?.id === 'open-1').map((x) => x.value);
    await sub.waitFor(() => outcomes().includes('executed') || outcomes().includes('failed') || outcomes().includes('rejected'), 20_000);
    expect(outcomes()).toEqual(['accepted', 'executed']);
    const ev = sub.readings.find((x) => x.attrs?.id === 'open-1' && x.value === 'executed')!;
    expect(ev.attrs).toMatchObject({ device: 'exit-barrier', point: 'gate', action: 'pulse', source: 'mqtt' });

    await new Promise((r) => setTimeout(r, 50));
    clearInterval(sampler);
    // Collapse the samples into the levels the line went through: low, high for the pulse, low again.
    const levels = samples.filter((v, i) => i === 0 || v !== samples[i - 1]);
    expect(levels).toEqual(['0', '1', '0']);
    expect(samples.filter((v) => v === '1').length, 'high for about 300 ms, sampled every 10 ms').toBeGreaterThan(5);
    expect(readGpioFile(gw.pid, GATE, 'direction')).toBe('low'); // still an output: never reconfigured

    // Shutdown in the middle of a long pulse: hold the value files open, so their last content
    // can be read after the daemon and its namespace are gone.
    const gateFd = openSync(`/proc/${gw.pid}/root/sys/class/gpio/gpio${GATE}/value`, 'r');
    const lampFd = openSync(`/proc/${gw.pid}/root/sys/class/gpio/gpio${LAMP}/value`, 'r');
    cleanups.push(() => {
      closeSync(gateFd);
      closeSync(lampFd);
    });
    expect(readFd(lampFd)).toBe('0');
    await centre.publishAsync(`${config.topicPrefix}/${config.gatewayId}/commands`, JSON.stringify({ ...cmd, id: 'open-2', durationMs: 2000 }), { qos: 1 });
    const deadline = Date.now() + 10_000;
    while (readFd(gateFd) !== '1') {
      if (Date.now() > deadline) throw new Error('the second pulse never drove the gate high');
      await new Promise((r) => setTimeout(r, 10));
    }
    const exit = await gw.stop();
    expect(exit.code).toBe(0);
    expect(readFd(gateFd), 'the pulse cut short: the gate back at its shutdown level (inactive) at once').toBe('0');
    expect(readFd(lampFd), 'the lamp at its shutdown level: inactive, active low, so the line high').toBe('1');
    // The cut-short pulse is on record as failed (the journal beside the outbox is the box's audit).
    const journal = new Database(join(dirname(config.outboxPath), JOURNAL_FILE), { readonly: true });
    cleanups.push(() => {
      journal.close();
    });
    const row = journal.prepare('SELECT outcome, reason FROM commands WHERE id = ?').get('open-2') as { outcome: string; reason: string };
    expect(row.outcome).toBe('failed');
    expect(row.reason).toMatch(/^PULSE_CUT_SHORT: pulse of output "gate" cut short after \d+ of 2000 ms/);
  });
});
