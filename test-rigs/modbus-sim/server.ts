import net from 'node:net';
import { UnitBank, type UnitOptions } from './bank.js';
import { encodeMbap, MbapDecoder, type MbapFrame } from './mbap.js';
import { exceptionPdu, handlePdu } from './pdu.js';

/**
 * A fast Modbus TCP server written directly on `net`, for tests, benchmarks and the demo.
 * (modbus-serial's ServerTCP delays every request on a timer and tops out near 800 req/s.)
 *
 * Fault injection per unit, after the modbus-serial test port's fault matrix: `slow` (answer
 * late), `exception` (answer every request with that exception), `silence` (never answer).
 * Link faults: `dropConnections()` (reset every client socket), `refuse()` (stop listening, so
 * connects get ECONNREFUSED) and `restore()` (listen again on the same port).
 */

export type UnitFault =
  | { kind: 'none' }
  | { kind: 'slow'; ms: number }
  | { kind: 'exception'; code: number }
  | { kind: 'silence' };

export interface SimulatorOptions {
  host?: string;
  /** 0 (default) picks a free port; read it back from `sim.port`. */
  port?: number;
  /** Unit ids and their options; a plain list gives default units. */
  units: Record<number, UnitOptions> | number[];
  /** What a unit id nobody simulates gets, like a TCP/RTU gateway: exception 11 (default) or nothing. */
  unknownUnit?: 'gateway-exception' | 'silence';
  /** `wall` (default) advances dynamic registers every `stepMs`; `manual` only on `step()`. */
  clock?: 'wall' | 'manual';
  stepMs?: number;
}

/** One request as it arrived, for tests of ordering. */
export interface SimulatorRequest {
  unitId: number;
  functionCode: number;
  /** Replies to earlier requests on this connection not yet sent when it arrived (slow units). */
  answersPending: number;
  /** When it was read, performance.now() of this process: a bench compares it with its own send time. */
  atMs: number;
}

export interface SimulatorStats {
  requests: number;
  /** Requests in arrival order, most recent last (max 10 000). */
  requestLog: SimulatorRequest[];
  connectionsAccepted: number;
  openConnections: number;
}

export interface ModbusTcpSimulator {
  readonly host: string;
  readonly port: number;
  readonly stats: SimulatorStats;
  unit(id: number): UnitBank;
  setFault(unit: number, fault: UnitFault): void;
  clearFault(unit: number): void;
  dropConnections(): void;
  refuse(): Promise<void>;
  restore(): Promise<void>;
  /** Advance the dynamic registers by `n` steps (manual clock). */
  step(n?: number): void;
  stop(): Promise<void>;
}

export async function startModbusTcpSimulator(opts: SimulatorOptions): Promise<ModbusTcpSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const banks = new Map<number, UnitBank>();
  const unitEntries: Array<[number, UnitOptions]> = Array.isArray(opts.units)
    ? opts.units.map((id) => [id, {}])
    : Object.entries(opts.units).map(([id, o]) => [Number(id), o]);
  for (const [id, o] of unitEntries) {
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`modbus simulator: unit id ${id} not in 0..255`);
    banks.set(id, new UnitBank(o));
  }
  const faults = new Map<number, UnitFault>();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const stats: SimulatorStats = { requests: 0, requestLog: [], connectionsAccepted: 0, openConnections: 0 };
  let stepCount = 0;
  let stopped = false;

  const answer = (frame: MbapFrame): Buffer | null => {
    const bank = banks.get(frame.unitId);
    if (!bank) {
      return opts.unknownUnit === 'silence' ? null : encodeMbap(frame.transactionId, frame.unitId, exceptionPdu(frame.pdu[0] ?? 0, 11));
    }
    const fault = faults.get(frame.unitId);
    const pdu = fault?.kind === 'exception' ? exceptionPdu(frame.pdu[0] ?? 0, fault.code) : handlePdu(bank, frame.pdu);
    return encodeMbap(frame.transactionId, frame.unitId, pdu);
  };

  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    stats.connectionsAccepted++;
    stats.openConnections = sockets.size;
    socket.setNoDelay(true);
    const decoder = new MbapDecoder();
    let answersPending = 0;
    socket.on('error', () => undefined); // clients vanish mid-write; that is their business
    socket.on('close', () => {
      sockets.delete(socket);
      stats.openConnections = sockets.size;
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: MbapFrame[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy(); // a real device drops a connection it cannot frame
        return;
      }
      // Answers to one chunk go out in one write: pipelining clients get one segment back.
      const now: Buffer[] = [];
      for (const frame of frames) {
        stats.requests++;
        stats.requestLog.push({ unitId: frame.unitId, functionCode: frame.pdu[0] ?? 0, answersPending, atMs: performance.now() });
        if (stats.requestLog.length > 10_000) stats.requestLog.shift();
        const fault = faults.get(frame.unitId);
        if (fault?.kind === 'silence') continue;
        if (fault?.kind === 'slow') {
          answersPending++;
          const timer = setTimeout(() => {
            timers.delete(timer);
            answersPending--;
            const reply = answer(frame);
            if (reply && !socket.destroyed) socket.write(reply);
          }, fault.ms);
          timers.add(timer);
          continue;
        }
        const reply = answer(frame);
        if (reply) now.push(reply);
      }
      if (now.length > 0 && !socket.destroyed) socket.write(now.length === 1 ? now[0]! : Buffer.concat(now));
    });
  };

  let server = net.createServer(onConnection);
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as net.AddressInfo).port;

  const stepper =
    (opts.clock ?? 'wall') === 'wall'
      ? setInterval(() => advance(1), opts.stepMs ?? 100)
      : null;
  stepper?.unref();

  function advance(n: number) {
    stepCount += n;
    for (const bank of banks.values()) bank.applyStep(stepCount);
  }

  function dropConnections() {
    for (const s of sockets) s.resetAndDestroy();
  }

  async function closeServer() {
    const s = server;
    dropConnections();
    if (s.listening) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  return {
    host,
    port,
    stats,
    unit(id) {
      const bank = banks.get(id);
      if (!bank) throw new RangeError(`modbus simulator: no unit ${id}`);
      return bank;
    },
    setFault(unit, fault) {
      if (fault.kind === 'none') faults.delete(unit);
      else faults.set(unit, fault);
    },
    clearFault(unit) {
      faults.delete(unit);
    },
    dropConnections,
    refuse: closeServer,
    async restore() {
      if (stopped || server.listening) return;
      server = net.createServer(onConnection);
      await listen(server, port, host);
    },
    step(n = 1) {
      advance(n);
    },
    async stop() {
      stopped = true;
      if (stepper) clearInterval(stepper);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer();
    },
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
