import { readFileSync } from 'node:fs';
import net from 'node:net';
import mqtt from 'mqtt';
import type { GatewayConfig } from '../../config/load.js';
import { redactUrl, splitBrokerUrl } from '../../forwarder/broker-url.js';
import { errnoOf, type CheckResult } from './check.js';

/**
 * Can this box reach each configured broker, and will the broker accept the gateway's
 * credentials and certificates? First a bare TCP connect (tells "network/firewall" apart from
 * "broker said no"), then a real MQTT CONNECT with the configured user, password and TLS
 * settings. The doctor uses its own client id and no will, so a running daemon's session and its
 * retained online/offline status are left alone.
 */

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };

export interface BrokerCheckOptions {
  timeoutMs?: number;
}

export async function checkBrokers(config: GatewayConfig, opts: BrokerCheckOptions = {}): Promise<CheckResult[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const results: CheckResult[] = [];
  for (const url of config.gateway.mqtt.urls) results.push(await checkBroker(config, url, timeoutMs));
  return results;
}

async function checkBroker(config: GatewayConfig, url: string, timeoutMs: number): Promise<CheckResult> {
  const shown = redactUrl(url);
  const base = { id: `broker:${shown}`, title: `broker ${shown}` };
  const endpoint = splitBrokerUrl(url);
  const parsed = new URL(endpoint.url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : (DEFAULT_PORTS[parsed.protocol] ?? 1883);

  try {
    await tcpConnect(host, port, timeoutMs);
  } catch (err) {
    const code = errnoOf(err) ?? 'ERROR';
    const advice: Record<string, string> = {
      ECONNREFUSED: `nothing listens on ${host}:${port}: is the broker running, and is the port right?`,
      ETIMEDOUT: `no answer from ${host}:${port}: check the cabinet's network link, routing, VPN and firewall`,
      EHOSTUNREACH: `no route to ${host}: check the network link, address and gateway`,
      ENETUNREACH: 'the network is unreachable: is the uplink (LTE/ethernet) up? check "ip route"',
      ENOTFOUND: `the name ${host} does not resolve: check DNS (/etc/resolv.conf) or use an IP address`,
      EAI_AGAIN: `DNS lookup for ${host} failed temporarily: check the DNS server is reachable`,
    };
    return { ...base, status: 'fail', detail: `TCP connect to ${host}:${port} failed: ${code}`, advice: advice[code] ?? 'check the network path to the broker' };
  }

  const g = config.gateway.mqtt;
  const tls = g.tls;
  let client: mqtt.MqttClient | undefined;
  try {
    client = await mqttConnect(endpoint.url, {
      clientId: `edge-gateway-doctor-${config.gateway.gateway.id}-${process.pid}`.slice(0, 128),
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      username: g.username ?? endpoint.username,
      password: config.secrets.mqttPassword?.reveal() ?? endpoint.password,
      ...(tls && {
        ca: tls.caFile ? readFileSync(tls.caFile) : undefined,
        cert: tls.certFile ? readFileSync(tls.certFile) : undefined,
        key: tls.keyFile ? readFileSync(tls.keyFile.path) : undefined,
        rejectUnauthorized: tls.rejectUnauthorized,
        servername: tls.servername,
      }),
    }, timeoutMs + 1000);
    const user = g.username ?? endpoint.username;
    const auth = user ? ` as ${user}` : ' (anonymous)';
    const accepted = `TCP ok, MQTT CONNECT accepted${auth}`;
    const weak = weakTransport(url, tls);
    if (weak) return { ...base, status: 'warn', detail: `${accepted}, ${weak.detail}`, advice: weak.advice };
    return { ...base, status: 'pass', detail: `${accepted}${isTlsUrl(url) ? ', TLS certificate verified' : ''}` };
  } catch (err) {
    return { ...base, status: 'fail', ...explainMqttError(err as Error & { code?: unknown }, url) };
  } finally {
    client?.end(true);
  }
}

function isTlsUrl(url: string): boolean {
  return /^(mqtts|ssl|wss):/i.test(url);
}

/**
 * A connection that works but protects less than its config suggests: a password sent without
 * TLS although a tls: block is set, or TLS that accepts any certificate (anyone on the path can
 * pose as the broker and collect the password).
 */
function weakTransport(url: string, tls: GatewayConfig['gateway']['mqtt']['tls']): { detail: string; advice: string } | undefined {
  if (tls && !isTlsUrl(url)) {
    return {
      detail: 'NOT encrypted: mqtt.tls is set but this URL is plain MQTT, so the tls settings are ignored',
      advice: 'use mqtts:// (usually port 8883) so the tls settings apply and the password is not sent in clear',
    };
  }
  if (tls && isTlsUrl(url) && tls.rejectUnauthorized === false) {
    return {
      detail: 'TLS certificate NOT verified (mqtt.tls.rejectUnauthorized: false)',
      advice: 'anyone on the network path can pose as the broker and collect the password: set mqtt.tls.caFile to the broker\'s CA and remove rejectUnauthorized: false',
    };
  }
  return undefined;
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/** One CONNECT, no retries; rejects with the first error, a refusal, or after `deadlineMs`. */
function mqttConnect(url: string, options: mqtt.IClientOptions, deadlineMs: number): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, options);
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      reject(err);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('connack timeout'), { code: 'CONNACK_TIMEOUT' })), deadlineMs);
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
    client.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('close');
      client.on('error', () => undefined);
      resolve(client);
    });
  });
}

/** TLS and CONNACK failures in words a technician can act on, with the raw code kept for support. */
export function explainMqttError(err: Error & { code?: unknown }, url: string): { detail: string; advice: string } {
  const code = typeof err.code === 'string' || typeof err.code === 'number' ? String(err.code) : '';
  const raw = `${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`;
  const tls: Record<string, string> = {
    CERT_HAS_EXPIRED: 'the broker\'s TLS certificate has expired (or this box\'s clock is wrong: check the clock line below); renew the certificate on the broker',
    CERT_NOT_YET_VALID: 'the broker\'s certificate is not valid yet: this box\'s clock is probably behind (check time sync)',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the broker\'s certificate is signed by a CA this gateway does not know: set mqtt.tls.caFile to that CA',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the broker\'s certificate is signed by an unknown CA: set mqtt.tls.caFile to that CA (include intermediates)',
    SELF_SIGNED_CERT_IN_CHAIN: 'the broker\'s chain ends in a CA this gateway does not trust: set mqtt.tls.caFile to that CA',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the broker uses a self-signed certificate: put it in mqtt.tls.caFile',
    ERR_TLS_CERT_ALTNAME_INVALID: 'the broker\'s certificate does not name this host: connect by the name in the certificate or set mqtt.tls.servername',
    ERR_SSL_WRONG_VERSION_NUMBER: 'that port does not speak TLS: use mqtt:// for a plain port or the broker\'s TLS port',
    EPROTO: 'TLS handshake failed: is this the broker\'s TLS port, and does it require a client certificate (mqtt.tls.certFile/keyFile)?',
    ECONNRESET: 'the broker dropped the connection during the handshake: it may require a client certificate (mqtt.tls.certFile/keyFile) or a different TLS version',
  };
  if (tls[code]) return { detail: `TLS: ${raw}`, advice: tls[code]! };
  // CONNACK return codes: MQTT 3.1.1 (1..5) and MQTT 5 reason codes.
  if (code === '4' || code === '134') return { detail: `broker refused CONNECT: ${raw}`, advice: 'bad user name or password: check mqtt.username and mqtt.passwordFile' };
  // mosquitto answers a wrong password with 5 (not authorised), not 4, so both point at credentials first.
  if (code === '5' || code === '135') {
    return { detail: `broker refused CONNECT: ${raw}`, advice: 'not authorised: check mqtt.username and mqtt.passwordFile first; if they are right, ask the broker admins to allow this user (and client ids edge-gateway-*)' };
  }
  if (code === '2' || code === '133') return { detail: `broker refused CONNECT: ${raw}`, advice: 'the broker rejected the client id: check mqtt.clientId and the broker\'s client id rules' };
  if (code === '3' || code === '136') return { detail: `broker refused CONNECT: ${raw}`, advice: 'the broker is unavailable: check it on the central side' };
  if (code === 'CONNACK_TIMEOUT' || /connack timeout/i.test(err.message)) {
    return { detail: `no CONNACK: ${raw}`, advice: `the port accepts TCP but no MQTT answer came: is ${redactUrl(url)} the MQTT port (and TLS vs plain right)?` };
  }
  return { detail: `MQTT CONNECT failed: ${raw}`, advice: 'check the broker URL, credentials and TLS settings in gateway.yaml' };
}
