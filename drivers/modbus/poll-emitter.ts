import type { DriverContext } from '../driver.js';
import { expandPacked, type PackedReadings } from '../../gateway/model/packed-readings.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { allGood, compileRequests, PackedAnswer, type CompiledRequest } from './compiled-plan.js';
import { blockOf } from './pdu/response.js';
import type { ReadPlan } from './plan.js';
import type { RequestResult } from './poll.js';
import { ReadingAssembler, type BlockResult } from './readings.js';
import type { RegisterEntry } from './schema.js';

/**
 * Hands a poll's results to the core, for both Modbus drivers: good answers as packed readings
 * decoded straight from the answer's bytes (compiled-plan.ts), errors and values that decode bad
 * as reading objects under the bad-quality policy (readings.ts). Without `emitPacked` on the
 * context (an older core), the packed answers are expanded into reading objects.
 */
export class PollEmitter {
  private readonly assembler: ReadingAssembler;
  private readonly compiled: CompiledRequest[];

  constructor(
    plan: ReadPlan,
    registers: readonly RegisterEntry[],
    private readonly ctx: DriverContext,
    /** True once the driver is stopping: nothing is emitted after that. */
    private readonly stopping: () => boolean,
  ) {
    this.assembler = new ReadingAssembler(plan);
    this.compiled = compileRequests(plan, registers);
  }

  /** `results` in the plan's order (as readPlan returns them). */
  emitPoll(results: readonly RequestResult[], ts: number): void {
    const packed: PackedReadings[] = [];
    const slow: BlockResult[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.data === undefined) {
        slow.push(r);
        continue;
      }
      const c = this.compiled[i]!;
      if (allGood(c, r.data)) {
        this.assembler.markGood(c.points.names);
        packed.push(new PackedAnswer(c, r.data, ts));
      } else {
        slow.push({ request: r.request, data: blockOf(r.request.table, r.request.count, r.data) });
      }
    }
    const readings = slow.length > 0 ? this.assembler.fromResults(slow, ts) : [];
    if (this.stopping()) return;
    if (this.ctx.emitPacked) {
      if (packed.length > 0) this.ctx.emitPacked(packed);
      this.emit(readings);
    } else {
      this.emit(packed.length === 0 ? readings : [...packed.flatMap(expandPacked), ...readings]);
    }
  }

  /** Every point of the device failed for one reason (refused connection, port absent). */
  emitAllBad(code: string, ts: number): void {
    this.emit(this.assembler.allBad(code, ts));
  }

  private emit(readings: DriverReading[]): void {
    if (!this.stopping() && readings.length > 0) this.ctx.emit(readings);
  }
}
