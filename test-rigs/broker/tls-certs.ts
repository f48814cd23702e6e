import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * A throw-away CA, a server certificate for 127.0.0.1/localhost and one client certificate,
 * made with the system openssl so the broker and the gateway see real PEM files on disk.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const f = (name: string): string => path.join(dir, name);
  // EC keys: generated in milliseconds, unlike RSA on a Pi-class CI box.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req', '-x509', ...newKey, '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-days', '7', '-subj', '/CN=edge-gateway test CA',
  ]);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', 'edge-gateway-test-client']] as const) {
    await run('openssl', [
      'req', ...newKey, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`,
    ]);
    await run('openssl', [
      'x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '7', '-extfile', f(`${name}.ext`),
    ]);
  }
  return {
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}
