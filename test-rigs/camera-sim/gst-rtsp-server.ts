import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * GStreamer's gst-rtsp-server (via PyGObject) as a child process: a real, independently written
 * RTSP server for checking the driver's RTSP client and Digest/Basic auth against.
 * CI must install the Debian packages named in DEBIAN_PACKAGES.
 */
export const DEBIAN_PACKAGES = [
  'python3-gi',
  'gir1.2-gst-rtsp-server-1.0',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
];

const SCRIPT = join(import.meta.dirname, 'gst-rtsp-server.py');
// Debian's python3, which is where python3-gi lives (not a pyenv/venv python on PATH).
const PYTHON = '/usr/bin/python3';

export interface GstRtspServerOptions {
  path?: string;
  username?: string;
  password?: string;
  auth?: 'digest' | 'basic';
  audioOnly?: boolean;
  startTimeoutMs?: number;
}

export interface GstRtspServer {
  port: number;
  path: string;
  stop(): Promise<void>;
}

export async function startGstRtspServer(opts: GstRtspServerOptions = {}): Promise<GstRtspServer> {
  const path = opts.path ?? '/stream1';
  const args = [SCRIPT, '--path', path, '--auth', opts.auth ?? 'digest'];
  if (opts.username !== undefined) args.push('--user', opts.username, '--password', opts.password ?? '');
  if (opts.audioOnly) args.push('--audio-only');
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gst-rtsp-server did not start within ${opts.startTimeoutMs ?? 10_000} ms`)),
        opts.startTimeoutMs ?? 10_000,
      );
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `gst-rtsp-server exited (${code}); install Debian packages: ${DEBIAN_PACKAGES.join(' ')}\n${stderr.join('').slice(-2000)}`,
          ),
        );
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^READY (\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    return { port, path, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
