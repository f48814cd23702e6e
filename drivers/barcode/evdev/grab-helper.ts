import { spawn } from 'node:child_process';
import type { DeviceOpener } from '../../transport/serial/hotplug-stream.js';
import { EvdevError, evdevErrorFromErrno, type EvdevErrorCode } from './errors.js';

/**
 * EVIOCGRAB needs ioctl(2), which Node cannot call without a native addon. This python3 program
 * opens the device, grabs it, says READY on stderr and then copies raw input_event bytes to
 * stdout, so the driver decodes exactly what it would read from the device itself. It asks the
 * kernel to kill it when the daemon dies (PR_SET_PDEATHSIG), so a crashed daemon does not leave
 * the scanner grabbed by an orphan. Errors are one "ERR <errno-name> <text>" line on stderr.
 */
export const GRAB_HELPER_SOURCE = String.raw`
import errno, os, signal, sys
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
path, grab = sys.argv[1], sys.argv[2] == "1"
def fail(e, stage):
    name = errno.errorcode.get(e.errno, "EIO")
    sys.stderr.write("ERR %s %s %s: %s\n" % (stage, name, path, e.strerror))
    sys.stderr.flush()
    sys.exit(3)
try:
    fd = os.open(path, os.O_RDONLY)
except OSError as e:
    fail(e, "open")
if grab:
    import fcntl
    EVIOCGRAB = 0x40044590  # _IOW('E', 0x90, int)
    try:
        fcntl.ioctl(fd, EVIOCGRAB, 1)
    except OSError as e:
        fail(e, "grab")
sys.stderr.write("READY\n")
sys.stderr.flush()
while True:
    try:
        data = os.read(fd, 24 * 64)
    except OSError as e:
        fail(e, "read")
    if not data:
        sys.exit(0)
    try:
        os.write(1, data)
    except BrokenPipeError:
        sys.exit(0)
`;

export interface GrabHelperOptions {
  python: string;
  /** false only for tests of the relay itself (a FIFO cannot be grabbed). */
  grab: boolean;
  readyTimeoutMs?: number;
}

function errorFromLine(path: string, line: string): EvdevError {
  const m = /^ERR (open|grab|read) (\S+) (.*)$/.exec(line);
  if (!m) return new EvdevError('EVDEV_HELPER_FAILED', `grab helper for ${path} failed: ${line.slice(0, 200)}`);
  const [, stage, errno, text] = m as unknown as [string, string, string, string];
  if (stage === 'grab') {
    const why =
      errno === 'EBUSY'
        ? 'another process holds the grab (a second gateway? evtest --grab?)'
        : errno === 'ENOTTY' || errno === 'EINVAL'
          ? 'not an input event device'
          : text;
    return new EvdevError('EVDEV_GRAB_FAILED', `cannot grab ${path} exclusively: ${why} (${errno}); set grab: false to read it shared`);
  }
  return evdevErrorFromErrno(path, errno, text, stage === 'open' ? 'open' : 'read');
}

export function grabHelperOpener(opts: GrabHelperOptions): DeviceOpener {
  return (path, sink) =>
    new Promise((resolve, reject) => {
      const child = spawn(opts.python, ['-u', '-c', GRAB_HELPER_SOURCE, path, opts.grab ? '1' : '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let ready = false;
      let closing = false;
      let stderr = '';
      let lastErr: EvdevError | null = null;
      const exited = new Promise<void>((r) => child.once('close', () => r()));
      const timer = setTimeout(() => {
        if (ready) return;
        child.kill('SIGKILL');
        reject(new EvdevError('EVDEV_HELPER_FAILED', `grab helper for ${path} did not report ready within ${opts.readyTimeoutMs ?? 5000} ms`));
      }, opts.readyTimeoutMs ?? 5000);

      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr = (stderr + d).slice(-4000);
        let nl: number;
        while ((nl = stderr.indexOf('\n')) !== -1) {
          const line = stderr.slice(0, nl);
          stderr = stderr.slice(nl + 1);
          if (line === 'READY' && !ready) {
            ready = true;
            clearTimeout(timer);
            resolve({
              close: async () => {
                closing = true;
                if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
                await exited;
              },
            });
          } else if (line.startsWith('ERR ')) {
            lastErr = errorFromLine(path, line);
          }
        }
      });
      child.stdout.on('data', (chunk: Buffer) => {
        if (ready) sink.data(chunk);
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        const code: EvdevErrorCode = 'EVDEV_HELPER_FAILED';
        const e = new EvdevError(code, `cannot run grab helper '${opts.python}' for ${path}: ${err.message} (grab: true needs python3)`, {
          cause: err,
        });
        if (ready) sink.lost(e);
        else reject(e);
      });
      // 'close', not 'exit': only then has the helper's last stderr line been read.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const e = lastErr ?? new EvdevError('EVDEV_UNPLUGGED', `grab helper for ${path} exited (${signal ?? `code ${code}`})`);
        if (!ready) reject(e);
        else if (!closing) sink.lost(e);
      });
    });
}
