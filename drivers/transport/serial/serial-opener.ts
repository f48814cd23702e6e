import { SerialPort } from 'serialport';
import { classifyLossError, classifyOpenError } from './errors.js';
import type { DeviceHandle, DeviceOpener, DeviceSink } from './hotplug-stream.js';
import type { SerialPortConfig } from './schema.js';

export type SerialLineSettings = Pick<SerialPortConfig, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>;

/**
 * Opens a serial port and resolves once it is usable. `lock: true` (serialport's default, kept
 * explicit) takes an exclusive flock so a second process — usually a still-running daemon while
 * someone probes the port — gets a clear SERIAL_BUSY instead of stealing half the bytes.
 */
export async function openSerialPort(path: string, settings: SerialLineSettings): Promise<SerialPort> {
  const port = new SerialPort({
    path,
    baudRate: settings.baudRate,
    dataBits: settings.dataBits,
    parity: settings.parity,
    stopBits: settings.stopBits,
    autoOpen: false,
    lock: true,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(classifyOpenError(path, err)) : resolve()));
  });
  return port;
}

/** An open serial port as a HotplugStream device: data and loss go to the sink; it can be written. */
export interface SerialLink extends DeviceHandle {
  /** Write and wait until the UART has shifted the bytes out (tcdrain). */
  write(bytes: Buffer): Promise<void>;
}

export async function openSerialLink(path: string, settings: SerialLineSettings, sink: DeviceSink): Promise<SerialLink> {
  const port = await openSerialPort(path, settings);
  let closing = false;
  let reported = false;
  const lost = (err: unknown): void => {
    if (closing || reported) return;
    reported = true;
    sink.lost(classifyLossError(path, err));
  };
  port.on('data', (chunk: Buffer) => sink.data(chunk));
  // serialport turns any read error (EIO from a vanished pty or USB adapter) into a 'close'
  // carrying a DisconnectedError; 'error' covers write/flush failures so none go unhandled.
  port.on('close', (err: unknown) => lost(err ?? null));
  port.on('error', (err: unknown) => lost(err));
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        port.write(bytes, (err) => {
          if (err) return reject(err);
          port.drain((e) => (e ? reject(e) : resolve()));
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}

/** A DeviceOpener for HotplugStream: data and loss of one serialport instance. */
export function serialOpener(settings: SerialLineSettings): DeviceOpener {
  return (path, sink) => openSerialLink(path, settings, sink);
}
