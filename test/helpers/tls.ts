// A throwaway self-signed certificate for localhost/127.0.0.1, made with the openssl CLI, so TLS tests
// use a real PEM chain and key as an operator would (AuthGate's guide makes its test certificate the same way).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The certificate's PEM: the CA a client must trust. */
  cert: string;
}

export function makeSelfSignedCertificate(cn = 'localhost'): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}
