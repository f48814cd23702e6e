import { format, stripVTControlCharacters } from 'node:util';
import type * as OpcuaLib from 'node-opcua';
import type { Logger } from 'pino';

export type Lib = typeof OpcuaLib;

let libLoading: Promise<Lib> | null = null;

/**
 * node-opcua costs ~90 MB RSS and ~0.5 s to load, so it is only pulled in when a device starts.
 * Its warnings and errors go to stdout with colour codes by default, which would break our NDJSON
 * log; they are routed into pino instead (library-wide, so tagged as node-opcua, not as a device).
 */
export function loadOpcuaLibrary(log: Logger): Promise<Lib> {
  libLoading ??= import('node-opcua').then((m) => {
    const lib = m as Lib;
    const libLog = log.child({ component: 'node-opcua' });
    const text = (args: unknown[]) => stripVTControlCharacters(format(...args)).trim();
    lib.setWarningLogger((...args: unknown[]) => libLog.warn(text(args)));
    lib.setErrorLogger((...args: unknown[]) => libLog.error(text(args)));
    return lib;
  });
  return libLoading;
}
