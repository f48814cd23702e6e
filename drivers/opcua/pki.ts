import path from 'node:path';

/**
 * Where the OPC-UA client keeps its certificate store (its private key, and the server
 * certificates it trusts). node-opcua's own default is under $HOME, the wrong place on a gateway.
 * Never a shared temp dir either: any local user can create /tmp/edge-gateway first and then read
 * the key or plant a trusted certificate. In order: systemd's StateDirectory= when running as a
 * service, else the gateway's state directory (the outbox's folder), else the packaged one.
 */
export const PACKAGED_STATE_DIR = '/var/lib/edge-gateway';

export function defaultPkiDir(env: NodeJS.ProcessEnv = process.env, stateDir?: string): string {
  // STATE_DIRECTORY may list several colon-separated paths; the first is ours.
  const systemdState = env.STATE_DIRECTORY?.split(':')[0];
  return path.join(systemdState || stateDir || PACKAGED_STATE_DIR, 'opcua-pki');
}
