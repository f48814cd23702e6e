import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { configProblems } from '../../test-rigs/harness/config-problems.js';

/** The `report:` block as a technician writes it in a device file, through the real loader. */
const EXAMPLE = join(import.meta.dirname, '../../config/examples/intersection');
const FILE = 'devices/signal-controller.yaml';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-config-'));
  cpSync(EXAMPLE, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function withReport(block: string): void {
  const text = readFileSync(join(dir, FILE), 'utf8').replace(/^report:\n(?:[ #].*\n)*/m, '');
  writeFileSync(join(dir, FILE), `${text}${block}`);
}

const problems = (): string[] => configProblems(dir);

describe('report: in a device file', () => {
  it('loads with durations in milliseconds and per-point overrides', () => {
    withReport('report:\n  deadband: 0.5\n  heartbeat: 90s\n  points:\n    cabinet.temp: { deadbandPercent: 2, heartbeat: 2m }\n');
    const device = loadConfig(dir).devices.find((d) => d.id === 'signal-controller')!;
    expect(device.report).toEqual({ deadband: 0.5, heartbeat: 90_000, points: { 'cabinet.temp': { deadbandPercent: 2, heartbeat: 120_000 } } });
  });

  it('refuses an override naming no point of a Modbus device, and a bad value, with file and line', () => {
    withReport('report:\n  heartbeat: 1h\n  points:\n    cabinet.tmp: { deadband: 1 }\n    det1.count: { deadband: -1 }\n');
    const found = problems();
    expect(found.some((p) => p.startsWith(`${FILE}:`) && p.includes('report.points.det1.count.deadband'))).toBe(true);
    withReport('report:\n  heartbeat: 1h\n  points:\n    cabinet.tmp: { deadband: 1 }\n');
    expect(problems()).toEqual([expect.stringMatching(new RegExp(`^${FILE}:\\d+: report\\.points\\.cabinet\\.tmp: no point named "cabinet.tmp"`))]);
  });

  // Every family's devices may have a report block, so every family says which points exist.
  const families = [
    { family: 'opcua', example: 'intersection', file: 'devices/signal-plc.yaml', point: 'occupancy' },
    { family: 'serial-line', example: 'intersection', file: 'devices/weather.yaml', point: 'air.temp' },
    { family: 'gpio', example: 'parking', file: 'devices/barrier-io.yaml', point: 'loop.entry.count' },
    { family: 'camera', example: 'parking', file: 'devices/cam-entrance.yaml', point: 'latency.rtsp' },
    { family: 'barcode-serial', example: 'parking', file: 'devices/entry-scanner.yaml', point: 'scan' },
  ];
  it.each(families)('refuses an override naming no point of a $family device, and takes one naming its point', ({ example, file, point }) => {
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(EXAMPLE, '..', example), dir, { recursive: true });
    const original = readFileSync(join(dir, file), 'utf8');
    writeFileSync(join(dir, file), `${original}report:\n  points:\n    ${point}.typo: { deadband: 1 }\n`);
    expect(problems()).toEqual([expect.stringMatching(new RegExp(`^${file}:\\d+: report\\.points\\.${point.replaceAll('.', '\\.')}\\.typo: no point named`))]);
    writeFileSync(join(dir, file), `${original}report:\n  points:\n    ${point}: { deadband: 1 }\n`);
    expect(problems()).toEqual([]);
  });
});
