import os from 'node:os';
import path from 'node:path';

/**
 * Where the OPC-UA client keeps its certificate store. node-opcua's own default is under $HOME,
 * which on a gateway is the wrong place (and in tests a surprise), so we always pass one:
 * systemd's StateDirectory= when running as a service, else a folder under the temp dir.
 */
export function defaultPkiDir(env: NodeJS.ProcessEnv = process.env): string {
  // STATE_DIRECTORY may list several colon-separated paths; the first is ours.
  const stateDir = env.STATE_DIRECTORY?.split(':')[0];
  return stateDir ? path.join(stateDir, 'opcua-pki') : path.join(os.tmpdir(), 'edge-gateway', 'opcua-pki');
}
