import net from 'node:net';
import { classifyModbusError, exceptionError, ModbusError } from './errors.js';
import { isBitTable, type ModbusTable } from './schema.js';

/**
 * Modbus TCP on a plain `net` socket with MBAP framing: one 12-byte request buffer and one map
 * entry per request, and the answer handed back as a view of the received bytes. Timeouts are
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
 */

const FUNCTION_CODE: Record<ModbusTable, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };
const MBAP_HEADER = 7;
/** Unit id + PDU: a PDU is at most 253 bytes. */
const MAX_MBAP_LENGTH = 254;

interface Outstanding {
  fc: number;
  unitId: number;
  table: ModbusTable;
  address: number;
  count: number;
  /** Data bytes the answer must carry. */
  byteCount: number;
  /** performance.now() past which the request has timed out. */
  deadline: number;
  timeoutMs: number;
  resolve: (data: Buffer) => void;
  reject: (err: ModbusError) => void;
}

/** What a request was, for error messages (built only when one fails). */
function contextOf(o: Pick<Outstanding, 'table' | 'address' | 'count' | 'unitId'>): string {
  return `read ${o.table} ${o.address}+${o.count} from unit ${o.unitId}`;
}

export class MbapTransport {
  private readonly outstanding = new Map<number, Outstanding>();
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
    return new Promise<Buffer>((resolve, reject) => {
      if (this.lostError) {
        reject(new ModbusError(this.lostError.code, `${contextOf({ table, address, count, unitId })}: ${this.lostError.message}`, 'connection'));
        return;
      }
      const tid = this.allocateTid();
      const fc = FUNCTION_CODE[table];
      const req = Buffer.allocUnsafe(12);
      req.writeUInt16BE(tid, 0);
      req.writeUInt16BE(0, 2);
      req.writeUInt16BE(6, 4);
      req[6] = unitId;
      req[7] = fc;
      req.writeUInt16BE(address, 8);
      req.writeUInt16BE(count, 10);
      const byteCount = isBitTable(table) ? Math.ceil(count / 8) : count * 2;
      const deadline = performance.now() + timeoutMs;
      this.outstanding.set(tid, { fc, unitId, table, address, count, byteCount, deadline, timeoutMs, resolve, reject });
      // With one timeout per device, deadlines only grow and the armed timer stays; a shorter one re-arms it.
      if (deadline < this.sweepAt) this.armSweep(deadline, timeoutMs);
      this.socket.write(req);
    });
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
        o.reject(new ModbusError('ETIMEDOUT', `${contextOf(o)}: no answer within ${o.timeoutMs} ms`, 'timeout'));
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

  /** One whole frame `buf[at, end)`: MBAP header, function code, then exception code or byte count + data. */
  private onFrame(buf: Buffer, at: number, end: number): void {
    const tid = buf.readUInt16BE(at);
    const o = this.outstanding.get(tid);
    if (o === undefined) {
      this.strayFrames++;
      return;
    }
    this.outstanding.delete(tid);
    const unitId = buf[at + 6]!;
    const fc = buf[at + 7]!;
    if (fc === (o.fc | 0x80) && end - at >= 9) {
      o.reject(exceptionError(buf[at + 8]!, contextOf(o)));
      return;
    }
    const why =
      unitId !== o.unitId
        ? `unit ${unitId}, expected ${o.unitId}`
        : fc !== o.fc
          ? `function ${fc}, expected ${o.fc}`
          : end - at < 9
            ? 'no byte count'
            : buf[at + 8] !== o.byteCount || end - (at + 9) !== o.byteCount
              ? `${buf[at + 8]} data bytes declared, ${end - (at + 9)} present, ${o.byteCount} expected`
              : null;
    if (why !== null) o.reject(new ModbusError('EBADRESPONSE', `${contextOf(o)}: malformed answer (${why})`, 'response'));
    else o.resolve(buf.subarray(at + 9, end));
  }

  private lose(err: ModbusError): void {
    if (this.lostError) return;
    this.lostError = err;
    this.rest = null;
    this.socket.destroy();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    for (const [tid, o] of this.outstanding) {
      this.outstanding.delete(tid);
      o.reject(new ModbusError(err.code, `${contextOf(o)}: ${err.message}`, err.kind));
    }
    for (const l of this.lostListeners.splice(0)) l(err);
  }
}
