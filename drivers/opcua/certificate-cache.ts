import type * as OpcuaLib from 'node-opcua';
import type { Lib } from './library.js';

/**
 * Certificate managers are shared per folder: generating the client's key pair is slow on a Pi
 * and two managers watching one folder would race each other. A manager that failed to
 * initialise is forgotten, so the next connect tries again.
 */
const certificateManagers = new Map<string, Promise<OpcuaLib.OPCUACertificateManager>>();

export function certificateManagerFor(lib: Lib, rootFolder: string, trustUnknown: boolean): Promise<OpcuaLib.OPCUACertificateManager> {
  const key = `${rootFolder}\0${trustUnknown}`;
  let cm = certificateManagers.get(key);
  if (!cm) {
    cm = (async () => {
      const manager = new lib.OPCUACertificateManager({
        rootFolder,
        automaticallyAcceptUnknownCertificate: trustUnknown,
      });
      await manager.initialize();
      return manager;
    })();
    cm.catch(() => certificateManagers.delete(key));
    certificateManagers.set(key, cm);
  }
  return cm;
}
