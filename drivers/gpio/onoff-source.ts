import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { listGpioChips, resolveSysfsPin } from './chip.js';
import { GpioError, gpioErrorFromErrno } from './errors.js';
import type { Level, PinHandle, PinSource } from './pin-source.js';
import { GPIO_SYSFS_ROOT } from './schema.js';

type Onoff = typeof import('onoff');

let onoffLoading: Promise<Onoff> | null = null;

/** onoff pulls in epoll, a native addon: load it only when a real pin is opened. */
function loadOnoff(): Promise<Onoff> {
  onoffLoading ??= import('onoff').then((m) => ((m as { default?: Onoff }).default ?? m) as Onoff);
  return onoffLoading;
}

/** Say clearly whether GPIO sysfs is absent or merely not writable, before touching onoff. */
function checkSysfsExport(sysfsRoot: string, pinLabel: string): void {
  const exportFile = path.join(sysfsRoot, 'export');
  try {
    accessSync(exportFile, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new GpioError(
        'GPIO_UNAVAILABLE',
        `${pinLabel}: ${exportFile} does not exist: not a Raspberry Pi, or the kernel has no GPIO sysfs (CONFIG_GPIO_SYSFS)`,
      );
    }
    throw gpioErrorFromErrno(err, pinLabel, `opening ${exportFile} for writing`);
  }
}

export interface OnoffSourceOptions {
  sysfsRoot: string;
  chip?: string;
  log: Logger;
}

export function onoffPinSource(opts: OnoffSourceOptions): PinSource {
  if (opts.sysfsRoot !== GPIO_SYSFS_ROOT) {
    opts.log.warn({ sysfsRoot: opts.sysfsRoot }, 'gpio: sysfsRoot is used for chip lookup only; onoff always uses /sys/class/gpio');
  }
  /** Chip lookup and onoff's own check, shared by inputs and outputs; onoff loads only here. */
  async function claim(bcm: number, who: string): Promise<{ sysfs: number; Gpio: Onoff['Gpio']; pinLabel: string }> {
    const pinLabel = `${who} (BCM ${bcm})`;
    checkSysfsExport(opts.sysfsRoot, pinLabel);
    let sysfs: number;
    try {
      sysfs = resolveSysfsPin(listGpioChips(opts.sysfsRoot), bcm, opts.chip).sysfs;
    } catch (err) {
      throw err instanceof GpioError ? new GpioError(err.code, `${who}: ${err.message}`) : gpioErrorFromErrno(err, pinLabel, 'reading gpiochip entries');
    }
    const { Gpio } = await loadOnoff();
    if (!Gpio.accessible) {
      throw new GpioError('GPIO_UNAVAILABLE', `${pinLabel}: onoff reports GPIO sysfs not accessible (${GPIO_SYSFS_ROOT}/export)`);
    }
    return { sysfs, Gpio, pinLabel };
  }
  const release = (gpio: InstanceType<Onoff['Gpio']>, bcm: number) => {
    try {
      gpio.unexport();
    } catch (err) {
      opts.log.debug({ err: (err as Error).message, bcm }, 'gpio unexport failed (ignored)');
    }
  };
  return {
    async open(bcm, label) {
      const { sysfs, Gpio, pinLabel } = await claim(bcm, `input "${label}"`);
      let gpio: InstanceType<Onoff['Gpio']>;
      try {
        // Always 'both' and never onoff's debounceTimeout or activeLow: the driver debounces and
        // inverts itself, so it sees the start of a bounce burst and the glitches it rejects.
        gpio = new Gpio(sysfs, 'in', 'both', { activeLow: false });
      } catch (err) {
        throw gpioErrorFromErrno(err, `${pinLabel}, sysfs GPIO ${sysfs}`, 'exporting and configuring the line');
      }
      const handle: PinHandle = {
        sysfs,
        read: () => gpio.readSync() as Level,
        watch(onLevel, onError) {
          gpio.watch((err, value) => (err ? onError(err) : onLevel(value as Level)));
        },
        close: () => release(gpio, bcm),
      };
      return handle;
    },
    async openOutput(bcm, label, initial) {
      const { sysfs, Gpio, pinLabel } = await claim(bcm, `output "${label}"`);
      let gpio: InstanceType<Onoff['Gpio']>;
      try {
        // 'high'/'low' set direction and level in one sysfs write: the line never shows the other level.
        gpio = new Gpio(sysfs, initial === 1 ? 'high' : 'low', 'none', { activeLow: false });
      } catch (err) {
        throw gpioErrorFromErrno(err, `${pinLabel}, sysfs GPIO ${sysfs}`, 'exporting and configuring the line as an output');
      }
      return {
        sysfs,
        write: (level) => gpio.writeSync(level),
        read: () => gpio.readSync() as Level,
        close: () => release(gpio, bcm),
      };
    },
  };
}
