import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { OpcuaTestServer, type OpcuaRigOptions } from './server.js';

/** Teardown steps an end-to-end test runs in reverse order after each case. */
export type Cleanups = Array<() => Promise<unknown> | void>;

export interface OpcuaE2eRig {
  /** A temporary folder of the test's own (the server's and the client's PKI live in it). */
  work: string;
  server: OpcuaTestServer;
  broker: BrokerFixture;
  /** The opcua device block the end-to-end tests share: the rig's endpoint and PKI, quick publishing and reconnects; `extra` adds or overrides. */
  device(extra: Record<string, unknown>): Record<string, unknown>;
}

/** A work folder, the node-opcua server rig and a broker for one end-to-end case, each torn down through `cleanups`. */
export async function startOpcuaE2eRig(name: string, serverOpts: Omit<OpcuaRigOptions, 'pkiDir'>, cleanups: Cleanups): Promise<OpcuaE2eRig> {
  const work = mkdtempSync(join(tmpdir(), `${name}-`));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const server = new OpcuaTestServer({ pkiDir: join(work, 'pki'), ...serverOpts });
  await server.start();
  cleanups.push(() => server.stop());
  const broker = await startBroker();
  cleanups.push(() => broker.dispose());
  const device = (extra: Record<string, unknown>) => ({
    type: 'opcua',
    endpointUrl: server.endpointUrl,
    pkiDir: join(work, 'pki', 'client'),
    trustUnknownServerCertificate: true,
    publishingIntervalMs: 200,
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    ...extra,
  });
  return { work, server, broker, device };
}
