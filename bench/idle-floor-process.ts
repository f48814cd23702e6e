import Database from 'better-sqlite3';

/**
 * Child process of bench/idle-floor.ts: node with the libraries the daemon loads, doing nothing.
 * The list is the daemon's own, found by logging every module the daemon resolves at the
 * intersection load (a `module.registerHooks` resolve hook, 2026-12-07): of the project's
 * libraries only these six; the driver families' libraries (node-opcua, serialport, onoff) load
 * only when a device of that family is configured (drivers/driver-module.ts), so a Modbus TCP
 * intersection never loads them. Node's built-in modules are in the binary either way.
 *   node dist/bench/idle-floor-process.js
 * Prints one line `ready` once everything is loaded, then idles until SIGTERM.
 */
export const DAEMON_LIBRARIES = ['better-sqlite3', 'mqtt', 'pino', 'zod', 'yaml', 'commander'] as const;

for (const name of DAEMON_LIBRARIES) await import(name);
// better-sqlite3 loads its native addon (SQLite itself) at the first open, as the daemon's outbox does.
new Database(':memory:').close();
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
process.once('SIGTERM', () => process.exit(0));
