import net from 'node:net';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';

/**
 * Child process of the intersection benchmark: the intersection load's I/O with none of the
 * gateway's logic, so the daemon's CPU can be printed next to the floor its parts set in the same
 * run. Every `intervalMs`, for each device, one Modbus TCP read request on a plain socket (answer
 * read, not decoded); the tick's readings committed as one prebuilt row to SQLite (WAL,
 * synchronous=NORMAL, the outbox's table shape); that row published QoS 1 with mqtt.js and deleted
 * on PUBACK. Same libraries, same node flags, same simulators, same broker.
 *   node dist/bench/io-floor.js '<json: { devices: [{host, port}], registers, intervalMs, brokerUrl, dbPath, rowBody }>'
 * Prints one line `ready` once connected, then runs until SIGTERM.
 */
export interface FloorConfig {
  devices: { host: string; port: number }[];
  registers: number;
  intervalMs: number;
  brokerUrl: string;
  dbPath: string;
  /** One tick's readings, encoded as the outbox stores them. */
  rowBody: string;
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
const readingsPerTick = cfg.devices.length * cfg.registers;
const commit = db.transaction((seq: number) => insert.run(seq, readingsPerTick, Date.now(), cfg.rowBody));

const client = await mqtt.connectAsync(cfg.brokerUrl, { clientId: `bench-io-floor-${process.pid}`, clean: true, reconnectPeriod: 0, writeCache: false });

const request = Buffer.alloc(12);
request.writeUInt16BE(6, 4);
request[6] = 1;
request[7] = 3;
request.writeUInt16BE(cfg.registers, 10);
let tid = 0;
let seq = 1;
const timer = setInterval(() => {
  for (const s of sockets) {
    tid = (tid + 1) & 0xffff;
    const req = Buffer.from(request);
    req.writeUInt16BE(tid, 0);
    s.write(req);
  }
  const rowSeq = seq;
  seq += readingsPerTick;
  commit(rowSeq);
  client.publish('bench/io-floor/telemetry', Buffer.from(cfg.rowBody), { qos: 1 }, (err) => {
    if (!err) remove.run(rowSeq);
  });
}, cfg.intervalMs);

process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  clearInterval(timer);
  for (const s of sockets) s.destroy();
  void client.endAsync(true).finally(() => {
    db.close();
    process.exit(0);
  });
});
