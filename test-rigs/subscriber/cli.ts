#!/usr/bin/env node
/**
 * Point it at a broker and watch one gateway's stream arrive:
 *   node dist/test-rigs/subscriber/cli.js --url mqtt://broker:1883 --prefix city --gateway gw-1
 * The password is read from MQTT_PASSWORD so it stays out of shell history and `ps`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import type { SeqRange } from './range-set.js';
import { startSubscriber, type Subscriber } from './subscriber.js';

const program = new Command()
  .name('edge-gateway-subscriber')
  .description('Reference subscriber: counts readings, rate, gaps and duplicates of one gateway')
  .requiredOption('--url <url>', 'broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://broker:8883')
  .requiredOption('--prefix <prefix>', 'topic prefix configured on the gateway')
  .requiredOption('--gateway <id>', 'gateway id')
  .option('--client-id <id>', 'stable client id for the persistent session')
  .option('--clean', 'use a clean session (nothing is queued while away)', false)
  .option('--username <name>', 'MQTT user name (password from MQTT_PASSWORD)')
  .option('--ca <file>', 'CA certificate (PEM) for mqtts://')
  .option('--interval <seconds>', 'seconds between summary lines', positive, 5)
  .option('--json', 'print summaries as NDJSON', false);

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

function fmtRanges(ranges: SeqRange[], max = 5): string {
  const shown = ranges.slice(0, max).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
  return ranges.length > max ? `${shown.join(',')},…(+${ranges.length - max})` : shown.join(',');
}

function line(s: Subscriber, ratePerS: number, json: boolean): string {
  const sum = s.summary();
  if (json) return JSON.stringify({ ts: Date.now(), ratePerS, ...sum, connected: s.connected });
  const health = s.lastHealth as { outbox?: { pendingReadings?: number } } | null;
  return [
    new Date().toISOString(),
    s.connected ? 'connected' : 'DISCONNECTED',
    `gateway=${sum.status ?? '?'}`,
    `received=${sum.received}`,
    `rate=${ratePerS.toFixed(1)}/s`,
    `seqs=${sum.lowest ?? '-'}..${sum.highest ?? '-'}`,
    `missing=${sum.missingCount}${sum.gaps.length ? ` [${fmtRanges(sum.gaps)}]` : ''}`,
    `dup=${sum.duplicates}`,
    `reused=${sum.reused}`,
    `droppedByGateway=${sum.droppedByGateway}`,
    `malformed=${sum.malformed}`,
    `gatewayQueue=${health?.outbox?.pendingReadings ?? '?'}`,
  ].join(' ');
}

async function main(): Promise<void> {
  const o = program.parse().opts<{
    url: string;
    prefix: string;
    gateway: string;
    clientId?: string;
    clean: boolean;
    username?: string;
    ca?: string;
    interval: number;
    json: boolean;
  }>();
  const sub = await startSubscriber({
    url: o.url,
    prefix: o.prefix,
    gatewayId: o.gateway,
    clientId: o.clientId ?? `edge-ref-sub-${os.hostname()}-${o.gateway}`,
    clean: o.clean,
    mqtt: {
      ...(o.username ? { username: o.username, password: process.env.MQTT_PASSWORD } : {}),
      ...(o.ca ? { ca: readFileSync(o.ca) } : {}),
    },
  });
  let lastCount = sub.counters.readings;
  let lastAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const rate = ((sub.counters.readings - lastCount) * 1000) / Math.max(1, now - lastAt);
    lastCount = sub.counters.readings;
    lastAt = now;
    process.stdout.write(`${line(sub, rate, o.json)}\n`);
    for (const m of sub.malformed.splice(0)) process.stderr.write(`malformed on ${m.topic}: ${m.reason}\n`);
  }, o.interval * 1000);
  const shutdown = (): void => {
    clearInterval(timer);
    process.stdout.write(`${line(sub, 0, o.json)}\n`);
    sub.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`edge-gateway-subscriber: ${e.code ?? 'ERROR'}: ${e.message ?? String(err)}\n`);
  process.exit(2);
});
