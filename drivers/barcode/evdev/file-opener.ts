import { createReadStream, open } from 'node:fs';
import { promisify } from 'node:util';
import type { DeviceOpener } from '../../transport/serial/hotplug-stream.js';
import { errnoOf, evdevErrorFromErrno, EvdevError } from './errors.js';

const openFd = promisify(open);

/**
 * Reads the event device directly. Each pending read sits in a libuv threadpool thread until the
 * next key event (a char device cannot be polled through fs), so one thread per scanner is
 * occupied; close() therefore does not wait for that read to return.
 */
export function evdevFileOpener(recordBytes: number): DeviceOpener {
  return async (path, sink) => {
    let fd: number;
    try {
      // A plain fd, not a FileHandle: the stream owns and closes it.
      fd = await openFd(path, 'r');
    } catch (err) {
      throw evdevErrorFromErrno(path, errnoOf(err), err instanceof Error ? err.message : String(err), 'open', err);
    }
    const stream = createReadStream('', { fd, highWaterMark: recordBytes * 64, autoClose: true });
    let closing = false;
    let reported = false;
    const lost = (err: unknown): void => {
      if (closing || reported) return;
      reported = true;
      sink.lost(err);
    };
    stream.on('data', (chunk) => sink.data(chunk as Buffer));
    stream.on('error', (err) => lost(evdevErrorFromErrno(path, errnoOf(err), err.message, 'read', err)));
    // EOF: the writer of a FIFO went away, or the node vanished under us.
    stream.on('end', () => lost(new EvdevError('EVDEV_UNPLUGGED', `input device ${path} reached end of stream`)));
    return {
      close: () =>
        new Promise<void>((resolve) => {
          closing = true;
          const timer = setTimeout(resolve, 200);
          stream.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          stream.destroy();
        }),
    };
  };
}
