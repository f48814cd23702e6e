import net from 'node:net';
import { classifyModbusError, exceptionError, ModbusError } from './errors.js';
import { describeRequest, requestPduLength, writeRequestPdu, type PduRequest, type WriteRequest } from './pdu/request.js';
import { parseResponsePdu } from './pdu/response.js';
import type { ModbusTable } from './schema.js';

/**
 * Modbus TCP on a plain `net` socket: MBAP framing only; request PDUs are built and answers judged
 * by the shared codec (pdu/). One request buffer and one map entry per request, and the answer handed back as a view of the received bytes. Timeouts are
 * deadlines checked by one timer per connection, re-armed for the earliest deadline when it fires,
 * not a timer per request (a device polled every 10 ms would otherwise create and cancel 100
 * timers a second, for answers that nearly always come in time).
 * (modbus-serial, used before, computes an RTU CRC, allocates several buffers and promises and
 * converts every register to a JS array per TCP request; on the poll path that was most of the
 * cost between the socket and the outbox.)
 *
 * Requests are matched to answers by transaction id, so several may be outstanding
 * (pipelining) on devices that allow it. What can go wrong is told apart by `ModbusError.kind`:
 *   - `exception`: the device answered with a Modbus exception (the connection is fine);
 *   - `response`: a well-framed answer that does not fit its request (function, unit, byte
 *     count): only that request fails;
 *   - `timeout`: no answer in time;
 *   - `connection`: socket error, peer closed, or bytes that cannot be MBAP frames (a stream
 *     that has lost its framing cannot be trusted again: the socket is destroyed).
 * An answer whose transaction id matches no outstanding request (a confused device or gateway)
 * is dropped and counted in `strayFrames`; its request times out.
 *
 * Writes (`write()`) take their turn ahead of reads that are waiting and never inside another
 * transaction: a write waits until nothing is outstanding, and reads asked for meanwhile wait
 * until it has settled. A poll between two of its requests thus lets a command through at once,
 * and a device that mishandles pipelining never sees a write overlap a read.
 */

const MBAP_HEADER = 7;
/** Unit id + PDU: a PDU is at most 253 bytes. */
const MAX_MBAP_LENGTH = 254;

interface Transaction {
  unitId: number;
  req: PduRequest;
  timeoutMs: number;
  /** A write: sent only when nothing else is outstanding, and nothing else is sent until it settles. */
  exclusive: boolean;
  /** performance.now() past which the request has timed out (set when sent). */
  deadline: number;
  resolve: (data: Buffer) => void;
  reject: (err: ModbusError) => void;
}

export class MbapTransport {
  private readonly outstanding = new Map<number, Transaction>();
  /** Writes waiting for the connection to fall quiet, first come first served. */
  private readonly writesWaiting: Transaction[] = [];
  /** Reads asked for while a write is waiting or outstanding. */
  private readonly readsWaiting: Transaction[] = [];
  private writing = false;
  private nextTid = 1;
  private rest: Buffer | null = null;
  private lostError: ModbusError | null = null;
  private readonly lostListeners: Array<(err: ModbusError) => void> = [];
  /** Fires at (or after) the earliest deadline among outstanding requests; null when none is armed. */
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweepAt = Infinity;
  /** Answers whose transaction id matched no outstanding request. */
  strayFrames = 0;

  private constructor(
    private readonly socket: net.Socket,
    private readonly where: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.lose(classifyModbusError(err, `connection to ${where}`)));
    socket.on('close', () => this.lose(new ModbusError('ECONNRESET', `connection to ${where} closed by the device`, 'connection')));
  }

  /** Connect, or reject with a ModbusError (ETIMEDOUT after `timeoutMs`, ECANCELED when `signal` aborts). */
  static connect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<MbapTransport> {
    const where = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new ModbusError('ECANCELED', `connect to ${where}: driver stopping`, 'other'));
        return;
      }
      const socket = net.connect({ host, port });
      const settle = (err: ModbusError | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('connect', onConnect);
        if (err) {
          socket.destroy();
          reject(err);
        } else {
          resolve(new MbapTransport(socket, where));
        }
      };
      const onAbort = () => settle(new ModbusError('ECANCELED', `connect to ${where}: driver stopping`, 'other'));
      const onError = (err: Error) => settle(classifyModbusError(err, `connect to ${where}`));
      const onConnect = () => settle(null);
      const timer = setTimeout(() => settle(new ModbusError('ETIMEDOUT', `connect to ${where}: no answer within ${timeoutMs} ms`, 'timeout')), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
  }

  get lost(): boolean {
    return this.lostError !== null;
  }

  /** Called once when the connection dies (error, close, unframeable bytes, destroy()). */
  onLost(listener: (err: ModbusError) => void): void {
    if (this.lostError) listener(this.lostError);
    else this.lostListeners.push(listener);
  }

  /**
   * Read `count` registers (FC 3/4: 2 bytes each, big-endian) or bits (FC 1/2: packed, LSB first)
   * and resolve with the data bytes of the answer, a view into the received chunk.
   */
  read(unitId: number, table: ModbusTable, address: number, count: number, timeoutMs: number): Promise<Buffer> {
    return this.transact(unitId, { op: 'read', table, address, count }, timeoutMs, false);
  }

  /**
   * Write coils or holding registers (FC 5, 6, 15, 16); resolves once the device has echoed the
   * request exactly. Goes ahead of waiting reads, never overlapping another transaction.
   */
  async write(unitId: number, req: WriteRequest, timeoutMs: number): Promise<void> {
    await this.transact(unitId, req, timeoutMs, true);
  }

  private transact(unitId: number, req: PduRequest, timeoutMs: number, exclusive: boolean): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.lostError) {
        reject(new ModbusError(this.lostError.code, `${describeRequest(req, unitId)}: ${this.lostError.message}`, 'connection'));
        return;
      }
      const t: Transaction = { unitId, req, timeoutMs, exclusive, deadline: 0, resolve, reject };
      if (exclusive) {
        this.writesWaiting.push(t);
        this.admit();
      } else if (this.writing || this.writesWaiting.length > 0) {
        this.readsWaiting.push(t);
      } else {
        this.send(t);
      }
    });
  }

  /** Starts what may go now: the first waiting write once nothing is outstanding, else the waiting reads. */
  private admit(): void {
    if (this.writing || this.lostError) return;
    if (this.writesWaiting.length > 0) {
      if (this.outstanding.size > 0) return;
      this.writing = true;
      this.send(this.writesWaiting.shift()!);
      return;
    }
    for (const t of this.readsWaiting.splice(0)) this.send(t);
  }

  private send(t: Transaction): void {
    const length = requestPduLength(t.req);
    const frame = Buffer.allocUnsafe(MBAP_HEADER + length);
    try {
      writeRequestPdu(t.req, t.unitId, frame, MBAP_HEADER);
    } catch (err) {
      if (t.exclusive) this.writing = false;
      t.reject(err as ModbusError);
      this.admit();
      return;
    }
    const tid = this.allocateTid();
    frame.writeUInt16BE(tid, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(length + 1, 4);
    frame[6] = t.unitId;
    t.deadline = performance.now() + t.timeoutMs;
    this.outstanding.set(tid, t);
    // With one timeout per device, deadlines only grow and the armed timer stays; a shorter one re-arms it.
    if (t.deadline < this.sweepAt) this.armSweep(t.deadline, t.timeoutMs);
    this.socket.write(frame);
  }

  /** A transaction has left `outstanding`: settle it, then let whatever waited for it go. */
  private settle(t: Transaction, result: Buffer | ModbusError): void {
    if (t.exclusive) this.writing = false;
    if (result instanceof ModbusError) t.reject(result);
    else t.resolve(result);
    this.admit();
  }

  /** Close the socket; outstanding requests fail with ECANCELED. */
  destroy(): void {
    this.lose(new ModbusError('ECANCELED', `connection to ${this.where} closed by the gateway`, 'other'));
  }

  private armSweep(deadline: number, inMs: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    this.sweepTimer = setTimeout(() => this.sweep(), inMs);
  }

  /** Fail the requests whose deadline has passed; re-arm for the earliest one left. */
  private sweep(): void {
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    const now = performance.now();
    let earliest = Infinity;
    for (const [tid, o] of this.outstanding) {
      if (o.deadline <= now) {
        this.outstanding.delete(tid);
        this.settle(o, new ModbusError('ETIMEDOUT', `${describeRequest(o.req, o.unitId)}: no answer within ${o.timeoutMs} ms`, 'timeout'));
      } else if (o.deadline < earliest) {
        earliest = o.deadline;
      }
    }
    // A rejection may have lost the connection (the driver drops it on a timeout).
    if (earliest !== Infinity && !this.lostError) this.armSweep(earliest, Math.max(1, Math.ceil(earliest - now)));
  }

  private allocateTid(): number {
    // 16-bit ids, 0 skipped; an id still outstanding (a very long pipeline) is never reused.
    do {
      this.nextTid = this.nextTid >= 0xffff ? 1 : this.nextTid + 1;
    } while (this.outstanding.has(this.nextTid));
    return this.nextTid;
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let at = 0;
    while (buf.length - at >= MBAP_HEADER) {
      const protocol = buf.readUInt16BE(at + 2);
      const length = buf.readUInt16BE(at + 4);
      if (protocol !== 0 || length < 3 || length > MAX_MBAP_LENGTH) {
        this.lose(
          new ModbusError('EBADFRAME', `connection to ${this.where}: bytes that are not a Modbus TCP frame (protocol ${protocol}, length ${length}); connection dropped`, 'connection'),
        );
        return;
      }
      const end = at + 6 + length;
      if (end > buf.length) break;
      this.onFrame(buf, at, end);
      if (this.lostError) return;
      at = end;
    }
    if (at < buf.length) this.rest = buf.subarray(at);
  }

  /** One whole frame `buf[at, end)`: MBAP header, then the response PDU for the codec to judge. */
  private onFrame(buf: Buffer, at: number, end: number): void {
    const tid = buf.readUInt16BE(at);
    const o = this.outstanding.get(tid);
    if (o === undefined) {
      this.strayFrames++;
      return;
    }
    this.outstanding.delete(tid);
    const unitId = buf[at + 6]!;
    if (unitId !== o.unitId) {
      this.settle(o, new ModbusError('EBADRESPONSE', `${describeRequest(o.req, o.unitId)}: malformed answer (unit ${unitId}, expected ${o.unitId})`, 'response'));
      return;
    }
    this.settle(o, parseResponsePdu(o.req, o.unitId, buf.subarray(at + MBAP_HEADER, end)));
  }

  private lose(err: ModbusError): void {
    if (this.lostError) return;
    this.lostError = err;
    this.rest = null;
    this.socket.destroy();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    const waiting = [...this.outstanding.values(), ...this.writesWaiting.splice(0), ...this.readsWaiting.splice(0)];
    this.outstanding.clear();
    this.writing = false;
    for (const o of waiting) o.reject(new ModbusError(err.code, `${describeRequest(o.req, o.unitId)}: ${err.message}`, err.kind));
    for (const l of this.lostListeners.splice(0)) l(err);
  }
}
