import net from 'node:net';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';

/**
 * Child process of the intersection benchmark: the intersection load's I/O with none of the
 * gateway's logic, so the daemon's CPU can be printed next to the floor its parts set in the same
 * run. Every `intervalMs`, for each device, one Modbus TCP read request on a plain socket (answer
 * read, not decoded). Every `commitIntervalMs` (the daemon's group-commit window, so both commit
 * as often), one prebuilt row of the readings polled in that window committed to SQLite (WAL,
 * synchronous=NORMAL, the outbox's table shape), published QoS 1 with mqtt.js and deleted on
 * PUBACK. Same libraries, same node flags, same simulators, same broker.
 *   node dist/bench/io-floor.js '<json: FloorConfig>'
 * Prints one line `ready` once connected, then runs until SIGTERM.
 */
export interface FloorConfig {
  devices: { host: string; port: number }[];
  registers: number;
  intervalMs: number;
  /** How often the row is committed and published: the daemon's `outbox.commitInterval`. */
  commitIntervalMs: number;
  brokerUrl: string;
  dbPath: string;
  /** The readings of one commit window, encoded as the outbox stores them. */
  rowBody: string;
  /** How many readings `rowBody` holds. */
  rowReadings: number;
}

const cfg = JSON.parse(process.argv[2]!) as FloorConfig;

const sockets = await Promise.all(
  cfg.devices.map(
    (d) =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: d.host, port: d.port }, () => resolve(s));
        s.setNoDelay(true);
        s.once('error', reject);
        s.on('data', () => undefined);
      }),
  ),
);

const db = new Database(cfg.dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS telemetry (first_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, created_ms INTEGER NOT NULL, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO telemetry(first_seq, count, created_ms, body) VALUES (?, ?, ?, ?)');
const remove = db.prepare('DELETE FROM telemetry WHERE first_seq = ?');
const commit = db.transaction((seq: number) => insert.run(seq, cfg.rowReadings, Date.now(), cfg.rowBody));

const client = await mqtt.connectAsync(cfg.brokerUrl, { clientId: `bench-io-floor-${process.pid}`, clean: true, reconnectPeriod: 0, writeCache: false });

const request = Buffer.alloc(12);
request.writeUInt16BE(6, 4);
request[6] = 1;
request[7] = 3;
request.writeUInt16BE(cfg.registers, 10);
let tid = 0;
let seq = 1;
const pollTimer = setInterval(() => {
  for (const s of sockets) {
    tid = (tid + 1) & 0xffff;
    const req = Buffer.from(request);
    req.writeUInt16BE(tid, 0);
    s.write(req);
  }
}, cfg.intervalMs);
const commitTimer = setInterval(() => {
  const rowSeq = seq;
  seq += cfg.rowReadings;
  commit(rowSeq);
  client.publish('bench/io-floor/telemetry', Buffer.from(cfg.rowBody), { qos: 1 }, (err) => {
    if (!err) remove.run(rowSeq);
  });
}, cfg.commitIntervalMs);

process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  clearInterval(pollTimer);
  clearInterval(commitTimer);
  for (const s of sockets) s.destroy();
  void client.endAsync(true).finally(() => {
    db.close();
    process.exit(0);
  });
});
