// A throwaway self-signed server certificate, so local databases accept the TLS the constructs require (sslmode=require, ssl.mode=required).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface ServerCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Writes `server.crt` and `server.key` (mode 0600) into `dir`, owned by `owner` when given (PostgreSQL insists on owning its key). */
export function selfSignedCertificate(dir: string, owner?: { uid: number; gid: number }): ServerCertificate {
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`openssl could not create a self-signed certificate (apt-get install openssl): ${(e as Error).message}`, { cause: e });
  }
  fs.chmodSync(keyFile, 0o600);
  if (owner) {
    fs.chownSync(certFile, owner.uid, owner.gid);
    fs.chownSync(keyFile, owner.uid, owner.gid);
  }
  return { certFile, keyFile };
}
