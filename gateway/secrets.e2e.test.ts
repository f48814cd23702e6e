import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../test-rigs/broker/broker.js';
import { freeLoopbackPort } from '../test-rigs/broker/port.js';
import { startCameraSim, type CameraSim } from '../test-rigs/camera-sim/camera-sim.js';
import { writeConfigDir, type ConfigDir } from '../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../test-rigs/harness/gateway-process.js';
import { runCli, startCli } from '../test-rigs/harness/run-cli.js';

/**
 * Every credential field of every driver type and of the broker holds its own unique secret; the
 * real daemon runs against mosquitto, cameras that ask for those credentials, and OPC-UA endpoints;
 * then everything a person or the command centre can see is searched for each secret: the daemon's
 * log and stderr, `status`, `status --json`, `tail`, `doctor`, and every message on the broker
 * (retained health and status, events, telemetry).
 */
const tag = randomBytes(4).toString('hex');
const secret = (name: string) => `Sx${name}-${tag}`;
const S = {
  mqttFile: secret('mqtt-file'),
  // @ and / in a password: redaction must take the userinfo to the last @, and no URL parser may print it.
  mqttUrl: `${secret('mqtt-url')}/p@th`,
  mqttTlsKey: secret('mqtt-tls-key'),
  camInline: secret('cam-inline'),
  camFile: secret('cam-file'),
  opcuaInline: secret('opcua-inline'),
  opcuaFile: secret('opcua-file'),
  opcuaUserKey: secret('opcua-user-key'),
  opcuaClientKey: secret('opcua-client-key'),
};
const USER = 'gw-user';
const CAM_USER = 'viewer';

/** Every way a secret could show up: as is, URL-encoded, inside a Basic blob. */
function forms(value: string): string[] {
  return [value, encodeURIComponent(value), Buffer.from(`${CAM_USER}:${value}`).toString('base64'), Buffer.from(`${USER}:${value}`).toString('base64')];
}

const pem = (marker: string) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(marker).toString('base64')}\n${marker}\n-----END PRIVATE KEY-----\n`;

describe('no secret appears in any output', () => {
  let broker: BrokerFixture;
  let camInline: CameraSim;
  let camFile: CameraSim;
  let config: ConfigDir;
  let gw: GatewayProcess;
  let work: string;
  const brokerMessages: string[] = [];
  let watcher: mqtt.MqttClient | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'edge-gw-secrets-'));
    broker = await startBroker({ auth: { username: USER, password: S.mqttFile } });
    camInline = await startCameraSim({ username: CAM_USER, password: S.camInline });
    // This camera expects another password and echoes what it was sent in its SOAP faults.
    camFile = await startCameraSim({ username: CAM_USER, password: 'not-the-configured-one', faultText: `you sent ${S.camFile}` });
    const file = (name: string, content: string) => {
      const p = join(work, name);
      writeFileSync(p, content, { mode: 0o600 });
      return p;
    };
    const closedPort = await freeLoopbackPort();
    const opcuaPort = await freeLoopbackPort();
    const camera = (sim: CameraSim) => ({
      type: 'camera',
      host: sim.host,
      intervalMs: 1000,
      flapThreshold: 1,
      username: CAM_USER,
      probes: {
        rtsp: { port: sim.rtspPort, path: sim.streamPath, timeoutMs: 2000 },
        onvif: { port: sim.httpPort, path: sim.onvifPath, timeoutMs: 2000 },
        snapshot: { url: sim.snapshotUrl, timeoutMs: 2000 },
      },
    });
    const opcua = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      type: 'opcua',
      endpointUrl: `opc.tcp://127.0.0.1:${opcuaPort}`,
      auth,
      pkiDir: join(work, 'pki'),
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      items: [{ nodeId: 'ns=1;s=Counter', point: 'counter' }],
      ...extra,
    });
    config = writeConfigDir({
      // The first URL carries credentials and answers nothing; the second is the real broker.
      brokerUrls: [`mqtt://${USER}:${S.mqttUrl}@127.0.0.1:${closedPort}`, broker.url],
      gateway: {
        mqtt: { username: USER, passwordFile: file('mqtt.pw', `${S.mqttFile}\n`), tls: { keyFile: file('mqtt-client.key', pem(S.mqttTlsKey)) } },
      },
      devices: {
        'cam-inline': { ...camera(camInline), password: S.camInline },
        'cam-file': { ...camera(camFile), passwordFile: file('cam.pw', `${S.camFile}\n`) },
        'plc-inline': opcua({ type: 'username', username: 'op', password: S.opcuaInline }),
        'plc-file': opcua({ type: 'username', username: 'op', passwordFile: file('opcua.pw', `${S.opcuaFile}\n`) }),
        'plc-cert': opcua(
          { type: 'certificate', certificateFile: file('user.crt', 'not a certificate\n'), privateKeyFile: file('user.key', pem(S.opcuaUserKey)) },
          { clientCertificateFile: file('client.crt', 'not a certificate\n'), clientPrivateKeyFile: file('client.key', pem(S.opcuaClientKey)) },
        ),
      },
    });
    watcher = mqtt.connect(broker.url, { username: USER, password: S.mqttFile, clientId: `secrets-watch-${tag}` });
    watcher.on('message', (topic, payload) => brokerMessages.push(`${topic} ${payload.toString('utf8')}`));
    await new Promise<void>((resolve, reject) => {
      watcher!.once('connect', () => watcher!.subscribe('#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
      watcher!.once('error', reject);
    });
    gw = GatewayProcess.start(config.dir);
    await gw.ready(30_000);
  }, 60_000);

  afterAll(async () => {
    watcher?.end(true);
    await gw?.stop();
    await camInline?.stop();
    await camFile?.stop();
    await broker?.dispose();
    if (config) rmSync(config.dir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('log, stderr, status, status --json, tail, doctor, retained health and events never contain one', async () => {
    const socket = join(config.dir, 'control.sock');
    // Let every device run: cameras authenticate (or are refused and echo), OPC-UA retries, health is published.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await runCli(['status', '--socket', socket, '--json']);
      const h = JSON.parse(r.stdout) as { broker: { connected: boolean }; devices: Record<string, { state: string; lastError: unknown }> };
      const camsSeen = h.devices['cam-inline']?.state === 'ok' && h.devices['cam-file']?.lastError;
      const healthSeen = brokerMessages.some((m) => m.includes('/health '));
      if (h.broker.connected && camsSeen && healthSeen) break;
      if (Date.now() > deadline) throw new Error(`devices did not settle: ${r.stdout}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    // The camera really echoed the wrong password back, so redaction was exercised.
    await gw.waitForLog((l) => JSON.stringify(l).includes('you sent [redacted]'), 15_000);

    const tail = startCli(['tail', '--socket', socket]);
    const tailJson = startCli(['tail', '--socket', socket, '--json']);
    await tail.waitForStdout(/cam-inline/, 20_000);
    await tailJson.waitForStdout(/cam-inline/, 20_000);
    const outputs = await Promise.all([
      runCli(['status', '--socket', socket]),
      runCli(['status', '--socket', socket, '--json']),
      runCli(['doctor', '--config', config.dir, '--no-probe'], { timeoutMs: 60_000 }),
      runCli(['doctor', '--config', config.dir, '--json', '--no-probe'], { timeoutMs: 60_000 }),
      tail.interrupt(),
      tailJson.interrupt(),
    ]);
    const seen: Record<string, string> = {
      'daemon log': gw.logs.map((l) => JSON.stringify(l)).join('\n'),
      'daemon stderr': gw.stderr.join('\n'),
      'broker messages': brokerMessages.join('\n'),
    };
    for (const [i, name] of ['status', 'status --json', 'doctor', 'doctor --json', 'tail', 'tail --json'].entries()) {
      seen[`${name} stdout`] = outputs[i]!.stdout;
      seen[`${name} stderr`] = outputs[i]!.stderr;
    }
    expect(brokerMessages.some((m) => m.includes('/health '))).toBe(true);
    expect(brokerMessages.some((m) => m.includes('/events '))).toBe(true);
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(seen)) {
      for (const [field, value] of Object.entries(S)) {
        for (const form of forms(value)) if (text.includes(form)) leaks.push(`${field} in ${where}`);
      }
      // The random tag is in no legitimate output: catches any fragment of a secret.
      if (text.includes(tag)) leaks.push(`secret tag ${tag} in ${where}`);
    }
    expect(leaks).toEqual([]);
    const [status, , doctor] = outputs;
    expect(status!.stdout).toMatch(/^cam-inline +camera +ok/m);
    // The weak transport (tls block, plain URLs) is called out by doctor, at start and in the log.
    expect(doctor!.stdout).toMatch(/NOT encrypted/);
    expect(gw.logs.some((l) => /config warning: .*mqtt\.tls: tls is set but 2 broker URL/.test(String(l.msg)))).toBe(true);
    expect(outputs[4]!.stdout).toMatch(/cam-inline/);
  }, 120_000);
});
