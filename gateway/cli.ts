#!/usr/bin/env node
import { wrongNodeMessage } from './node-version.js';

/**
 * The `edge-gateway` command's entry: checks the Node it was started on before loading anything
 * that needs the right one (gateway/node-version.ts), then the commands (cli-commands.ts).
 */

/** sysexits' EX_CONFIG, as for a broken config: the systemd unit does not restart-loop on it. */
const EXIT_CONFIG = 78;

const wrongNode = wrongNodeMessage(process.versions.node, process.execPath);
if (wrongNode !== null) {
  process.stderr.write(wrongNode);
  process.exit(EXIT_CONFIG);
}
await import('./cli-commands.js');
