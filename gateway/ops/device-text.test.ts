import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { startCameraSim, type CameraSim } from '../../test-rigs/camera-sim/camera-sim.js';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import type { HealthReport } from '../health.js';
import { escapeControl, jsonForTerminal, terminalSafe } from './terminal.js';
import { runCli } from '../../test-rigs/harness/run-cli.js';

/**
 * A camera answers RTSP OPTIONS with a reason phrase full of terminal escapes (colour, a window
 * title set with OSC ... BEL, an 8-bit CSI that clears the screen). `status` must show them as
 * visible text, never send them raw to the technician's terminal.
 */
const HOSTILE_REASON = 'Busy \x1b[31mRED\x1b[0m \x1b]0;pwned\x07 \u009b2J \x7f end';
// Raw terminal controls that must never reach the output: C0 except the line feed, DEL, C1.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('terminal escaping of device text', () => {
  it('escapes C0, DEL, C1 and bidi controls visibly and keeps printable unicode', () => {
    expect(escapeControl('a\x1b[2Jb\u009bc\x7fd\ne\u202ef — Zürich 東京 🚦')).toBe('a\\x1b[2Jb\\x9bc\\x7fd\\x0ae\\u202ef — Zürich 東京 🚦');
    expect(escapeControl('line1\nline2\x1b', { keepLineBreaks: true })).toBe('line1\nline2\\x1b');
    expect(terminalSafe({ ['k\x1b']: ['v\x07', 3, null] })).toEqual({ 'k\\x1b': ['v\\x07', 3, null] });
    const json = jsonForTerminal({ r: 'x\u009by\x7f\x1b' });
    expect(json).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json)).toEqual({ r: 'x\u009by\x7f\x1b' }); // same value, only spelled safely
  });

  describe('against the real daemon and a camera simulator', () => {
    let broker: BrokerFixture;
    let cam: CameraSim;
    let config: ConfigDir;
    let gw: GatewayProcess;

    beforeAll(async () => {
      broker = await startBroker();
      cam = await startCameraSim({ optionsStatus: `503 ${HOSTILE_REASON}` });
      config = writeConfigDir({
        brokerUrls: [broker.url],
        devices: {
          gate: { type: 'camera', host: cam.host, intervalMs: 1000, flapThreshold: 1, probes: { rtsp: { port: cam.rtspPort, path: cam.streamPath, timeoutMs: 2000 } } },
        },
      });
      gw = GatewayProcess.start(config.dir);
      await gw.ready(20_000);
    }, 40_000);

    afterAll(async () => {
      await gw?.stop();
      await cam?.stop();
      await broker?.dispose();
      if (config) rmSync(config.dir, { recursive: true, force: true });
    });

    it('status and status --json show the hostile reason phrase escaped, with no raw control character', async () => {
      const socket = join(config.dir, 'control.sock');
      const deadline = Date.now() + 15_000;
      let report: HealthReport | undefined;
      for (;;) {
        const r = await runCli(['status', '--socket', socket, '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).not.toMatch(RAW_CONTROL);
        report = JSON.parse(r.stdout) as HealthReport;
        if (report.devices.gate?.lastError) break;
        if (Date.now() > deadline) throw new Error(`no camera error in time: ${r.stdout}`);
        await new Promise((res) => setTimeout(res, 300));
      }
      // The device really did send the escapes: the JSON value holds them, spelled as \u escapes.
      expect(report.devices.gate!.lastError!.message).toContain('\x1b[31mRED');

      const text = await runCli(['status', '--socket', socket]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).not.toMatch(RAW_CONTROL);
      expect(text.stdout).toMatch(/^gate +camera +degraded /m);
      expect(text.stdout).toMatch(/^ {2}last error .*RTSP_STATUS: rtsp: OPTIONS returned 503 Busy \\x1b\[31mRED\\x1b\[0m \\x1b\]0;pwned\\x07/m);
    }, 30_000);
  });
});
