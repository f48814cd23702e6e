import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../health.js';
import { renderStatus, troubleCounters, type DrainTracker } from './status.js';
import { colourStyle, plainStyle, visibleLength } from './terminal.js';

/**
 * How `status` reads when things are wrong: a broker that is down, a backlog, drops and a device
 * with errors. The report shape is the daemon's own HealthReport type, so a change there that the
 * renderer does not follow fails to compile here.
 */
function report(over: Partial<HealthReport['outbox']> = {}): HealthReport {
  const ts = 1_764_061_200_000;
  return {
    v: 1,
    gateway: 'main-5th',
    ts,
    uptimeS: 3725,
    version: { package: '0.1.0', node: 'v24.21.0', outboxSchema: 1 },
    config: { running: 'config-dir', lastGoodSavedAt: '2026-12-01T06:00:00.000Z', rejected: null },
    clock: { synced: false },
    outbox: {
      id: 'o-1',
      nextSeq: 5001,
      pendingReadings: 3000,
      pendingBytes: 150_000,
      pendingEvents: 2,
      oldestPendingMs: 125_000,
      dropped: { readings: 100, ranges: [[1, 100]] },
      skipped: { ranges: [] },
      refused: 0,
      drainRatePerS: 0,
      drainEtaS: null,
      kept: { readings: 0, bytes: 0 },
      ...over,
    },
    broker: {
      connected: false,
      url: 'mqtts://broker.city:8883',
      connects: 3,
      lastError: 'connect ECONNREFUSED 10.0.0.5:8883',
      inflightBatches: 0,
      nextAttemptAtMs: ts + 3_200,
      inbound: { dropped: { unsolicited: 0, tooLarge: 0, overLimit: 0 }, violations: 0, lastViolation: null, throttledS: 0 },
    },
    commit: { waiting: 0, commits: 10, failures: 0, outboxFull: false, invalidTimestamps: 0 },
    devices: {
      cam: {
        type: 'camera',
        state: 'ok',
        lastGoodTs: ts - 2_000,
        lastError: { code: 'RTSP_404', message: 'rtsp: DESCRIBE returned 404', ts: ts - 28_000 },
        stateReason: 'online: all probes passed (rtsp, onvif)',
        stateSince: ts - 600_000,
        counters: { cycles: 40, probeFailures: 1 },
      },
      pump: { type: 'modbus-tcp', state: 'degraded', lastGoodTs: ts - 42_000, lastError: { code: 'ETIMEDOUT', message: 'read holding 0+1 from unit 1: no answer in time', ts: ts - 3_000 }, counters: { polls: 900, requests: 900, timeouts: 12, exceptions: 0, reconnects: 1 } },
      door: { type: 'gpio', state: 'ok', lastGoodTs: ts - 500, lastError: null, counters: { changes: 4, glitches: 0 } },
    },
    process: { rssBytes: 48 * 1024 * 1024, heapUsedBytes: 20 * 1024 * 1024 },
  };
}

describe('status rendering', () => {
  it('shows only the counters that signal trouble, and non-zero ones', () => {
    expect(troubleCounters({ polls: 900, requests: 900, timeouts: 12, exceptions: 0, reconnects: 1, checksumErrors: 3, scans: 4 })).toEqual([
      ['timeouts', 12],
      ['reconnects', 1],
      ['checksumErrors', 3],
    ]);
  });

  it('renders a down broker, a stalled backlog, drops and device errors in plain text', () => {
    const text = renderStatus(report(), plainStyle);
    expect(text).not.toContain('\x1b[');
    expect(text).toMatch(/^gateway +main-5th  up 1h 2m  clock NOT synchronised/m);
    expect(text).toMatch(/^broker +mqtts:\/\/broker\.city:8883  NOT connected  next attempt in 3s  connects 3, in flight 0 batch\(es\)  last error: connect ECONNREFUSED 10\.0\.0\.5:8883$/m);
    expect(text).not.toMatch(/^inbound/m); // nothing refused: no line
    expect(text).toMatch(/^queue +3000 reading\(s\), 146 KiB, 2 event\(s\)  oldest 2m 5s  not draining$/m);
    expect(text).toMatch(/^drops +100 reading\(s\) dropped by retention \(seq 1-100\), 0 refused$/m);
    const afterCut = renderStatus(report({ skipped: { ranges: [[5001, 8192]] } }), plainStyle);
    expect(afterCut).toMatch(/^drops +100 reading\(s\) dropped by retention \(seq 1-100\), 0 refused, seq 5001-8192 skipped after an unclean stop$/m);
    expect(text).toMatch(/^pump +modbus-tcp +degraded +42s ago +timeouts=12 reconnects=1\n {2}why {8}ETIMEDOUT: read holding 0\+1 from unit 1: no answer in time \(3s ago\)$/m);
    expect(text).toMatch(/^door +gpio +ok +500ms ago +-$/m);
  });

  it('shows what the broker sent that was refused, and no next attempt while connected', () => {
    const h = report();
    h.broker = {
      ...h.broker,
      connected: true,
      lastError: null,
      nextAttemptAtMs: null,
      inbound: { dropped: { unsolicited: 5000, tooLarge: 2, overLimit: 1 }, violations: 3, lastViolation: 'broker sent a 300000-byte PUBLISH packet; the limit is 262144 bytes', throttledS: 75 },
    };
    const text = renderStatus(h, plainStyle);
    expect(text).toMatch(/^broker +mqtts:\/\/broker\.city:8883  connected  connects 3/m);
    expect(text).toMatch(
      /^inbound +5003 message\(s\) dropped \(unsolicited 5000, too large 2, over limit 1\); 3 connection\(s\) closed for breaking the protocol, last: broker sent a 300000-byte PUBLISH packet; the limit is 262144 bytes; reading paused 1m 15s for sending too fast$/m,
    );
  });

  it('says why a device is in its state now, and dates an old error instead of presenting it as current', () => {
    const text = renderStatus(report(), plainStyle);
    expect(text).toMatch(
      /^cam +camera +ok +2s ago +probeFailures=1\n {2}why {8}online: all probes passed \(rtsp, onvif\) \(since 10m ago\)\n {2}last error 28s ago: RTSP_404: rtsp: DESCRIBE returned 404\n/m,
    );
    // A healthy device without errors gets no notes.
    expect(text).toMatch(/^door .*\n(?!  )/m);
  });

  it('colours by meaning on a terminal while keeping the columns aligned', () => {
    const text = renderStatus(report(), colourStyle);
    expect(text).toContain('\x1b[');
    const rows = text.split('\n').filter((l) => /^(DEVICE|pump|door)/.test(l.replace(/\x1b\[[0-9;]*m/g, '')));
    const plainRows = rows.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    expect(rows[2]).not.toBe(plainRows[2]);
    const col = plainRows[0]!.indexOf('LAST GOOD');
    expect(plainRows.slice(1).map((l) => l.slice(col).match(/^\S+ ago/)?.[0])).toEqual(['500ms ago', '42s ago']);
    expect(visibleLength(rows[1]!)).toBe(plainRows[1]!.length);
  });

  it('draws a drain bar against the largest backlog seen while watching', () => {
    const drain: DrainTracker = { peak: 0 };
    renderStatus(report({ pendingReadings: 4000, drainRatePerS: 0 }), plainStyle, drain);
    const text = renderStatus(report({ pendingReadings: 1000, drainRatePerS: 500, drainEtaS: 2 }), plainStyle, drain);
    expect(drain.peak).toBe(4000);
    expect(text).toMatch(/^ +\[#{23}-{7}\]  75%  1000 left  500\/s  ETA 2s$/m);
    expect(renderStatus(report({ pendingReadings: 1000, drainRatePerS: 500, drainEtaS: 2 }), plainStyle)).not.toContain('[#');
  });

  it('names the running version, and a rejected config with file:line and since when until it is fixed', () => {
    const fine = renderStatus(report(), plainStyle);
    expect(fine).toMatch(/^version +edge-gateway 0\.1\.0, Node\.js v24\.21\.0, outbox schema 1$/m);
    expect(fine).toMatch(/^config +as on disk \(kept as last good 2026-12-01T06:00:00\.000Z\)$/m);
    const broken: HealthReport = {
      ...report(),
      config: {
        running: 'last-good',
        lastGoodSavedAt: '2026-12-01T06:00:00.000Z',
        rejected: { since: '2026-12-07T08:00:00.000Z', by: 'start', problems: 7, first: ['devices/pump.yaml:4: intervalMs: expected number, received string'] },
      },
    };
    const text = renderStatus(broken, plainStyle);
    expect(text).toMatch(
      /^config +files on disk REJECTED since 2026-12-07T08:00:00\.000Z \(at start, 7 problem\(s\)\); running the LAST GOOD config \(saved 2026-12-01T06:00:00\.000Z\)\n +devices\/pump\.yaml:4: intervalMs: expected number, received string\n +… and 6 more/m,
    );
    const afterReload = renderStatus({ ...broken, config: { ...broken.config, running: 'config-dir', rejected: { ...broken.config.rejected!, by: 'reload' } } }, plainStyle);
    expect(afterReload).toMatch(/REJECTED since 2026-12-07T08:00:00\.000Z \(at reload, 7 problem\(s\)\); running the previous config$/m);
  });
});
