// Certificates made at test time: a private CA and leaf certificates it signs, for TLS tests of the
// broker's listener and of Redis. Nothing is shipped or reused between runs.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

/** A PEM certificate and its private key. */
export interface CertPair {
  cert: string;
  key: string;
  /** Hex serial number, as `X509Certificate.serialNumber` and a peer certificate report it. */
  serial: string;
}

export interface TestCa extends CertPair {
  /** A leaf signed by this CA, valid for `localhost` and 127.0.0.1 unless `names` says otherwise. */
  issue(options?: { commonName?: string; names?: string[]; ips?: string[]; client?: boolean }): Promise<CertPair>;
}

const DNS = 2 as const;
const IP = 7 as const;
// SHA-256 signatures (the library's default, SHA-1, is refused by OpenSSL 3), valid from a minute ago for a day.
const validity = () => ({ algorithm: 'sha256', notBeforeDate: new Date(Date.now() - 60_000), notAfterDate: new Date(Date.now() + 86_400_000) });

/** A throw-away CA (EC P-256, valid one day). */
export async function createTestCa(commonName = 'gtb test CA'): Promise<TestCa> {
  const ca = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec', ...validity(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return {
    cert: ca.cert, key: ca.private, serial: new X509Certificate(ca.cert).serialNumber,
    async issue(options = {}) {
      const names = options.names ?? ['localhost'];
      const ips = options.ips ?? ['127.0.0.1'];
      const leaf = await selfsigned.generate([{ name: 'commonName', value: options.commonName ?? names[0] ?? 'gtb-test' }], {
        keyType: 'ec', ...validity(),
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: DNS, value })), ...ips.map((ip) => ({ type: IP, ip }))] },
        ],
      });
      return { cert: leaf.cert, key: leaf.private, serial: new X509Certificate(leaf.cert).serialNumber };
    },
  };
}

/** A temporary directory for certificate files; `close()` removes it. */
export async function certDir(): Promise<{ dir: string; write(name: string, pem: string): Promise<string>; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gtb-certs-'));
  return {
    dir,
    async write(name, pem) {
      const file = join(dir, name);
      await writeFile(file, pem, { mode: 0o600 });
      return file;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
