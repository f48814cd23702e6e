import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type * as OpcuaLib from 'node-opcua';
import { OpcuaConfigError } from './errors.js';
import type { Lib } from './library.js';
import type { OpcuaDeviceConfig } from './schema.js';

/**
 * The user identity a session is created with. The password (inline or from passwordFile) was
 * read when the config loaded, by the kit's one secret-file policy. The user certificate and key
 * are read here, on every connect; a missing or unreadable one is an error naming the file and
 * field, never its content.
 */
export async function userIdentityFor(lib: Lib, auth: OpcuaDeviceConfig['auth']): Promise<OpcuaLib.UserIdentityInfo> {
  if (auth.type === 'anonymous') return { type: lib.UserTokenType.Anonymous };
  if (auth.type === 'username') {
    const password = (auth.password ?? auth.passwordFile)!.reveal();
    return { type: lib.UserTokenType.UserName, userName: auth.username, password };
  }
  const certPem = await readSecret(auth.certificateFile, 'auth.certificateFile');
  const keyPem = await readSecret(auth.privateKeyFile.path, 'auth.privateKeyFile');
  let der: Buffer;
  try {
    der = new X509Certificate(certPem).raw;
  } catch (err) {
    throw new OpcuaConfigError('OPCUA_BAD_CERTIFICATE', `auth.certificateFile ${auth.certificateFile} is not a PEM/DER certificate: ${(err as Error).message}`);
  }
  return { type: lib.UserTokenType.Certificate, certificateData: der, privateKey: keyPem };
}

async function readSecret(file: string, field: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    // Say which file and why, never what it contains.
    throw new OpcuaConfigError(code === 'ENOENT' ? 'OPCUA_SECRET_MISSING' : 'OPCUA_SECRET_UNREADABLE', `${field} ${file}: ${code}`);
  }
}
