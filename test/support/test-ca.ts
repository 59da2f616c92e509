// A throwaway certificate authority and server certificate made with openssl, for the HTTPS tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caCert: string;
  /** Makes (or remakes) a server certificate for `names` signed by the CA; returns its paths. */
  issue(name: string, sans?: string): { certFile: string; keyFile: string; pem: string };
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'calling-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=calling-elements test CA',
    '-keyout', 'ca.key', '-out', 'ca.pem');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    issue(name, sans = 'IP:127.0.0.1,DNS:localhost') {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.pem`);
      run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', key, '-out', `${name}.csr`);
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${sans}\n`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
        '-out', cert, '-extfile', `${name}.ext`);
      return { certFile: cert, keyFile: key, pem: readFileSync(cert, 'utf8') };
    },
  };
}
