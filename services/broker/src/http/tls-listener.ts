import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { GtbError } from '@gtb/errors';
import type { Logger } from '@gtb/logger';
import type { HttpTlsConfig } from './tls-config.js';
import { answerClientErrors } from './client-error.js';

/** The broker's HTTP(S) server, not yet listening, and what stops its certificate reloads. */
export interface BrokerListener {
  server: Server;
  scheme: 'http' | 'https';
  /** Reads the certificate files now and swaps in a new valid pair; what happened. */
  reload(): Promise<'unchanged' | 'reloaded' | 'rejected'>;
  /** Stops the reload timer (the server itself is closed by its owner). */
  close(): void;
}

interface Pair { cert: Buffer; key: Buffer }

/** What the logs may say about a certificate: public facts only, never the key. */
function describeCert(cert: Buffer): Record<string, string> {
  const x = new X509Certificate(cert);
  return { serial: x.serialNumber, subject: x.subject.replace(/\n/g, ', '), validTo: x.validTo, sha256: x.fingerprint256 };
}

/** Throws when the pair cannot serve: not PEM, or a key that does not belong to the certificate. */
function checkPair(pair: Pair): void {
  createSecureContext({ cert: pair.cert, key: pair.key });
  void new X509Certificate(pair.cert);
}

/**
 * Plain HTTP without `tls`; with it, HTTPS whose certificate and key are re-read every
 * `reloadIntervalMs`. A changed pair that loads is installed with `server.setSecureContext()` (new
 * connections get it, open ones keep theirs); one that does not load is logged once and the pair
 * in use kept, so a half-finished renewal never takes the listener down.
 */
export function createBrokerListener(app: RequestListener, tls: HttpTlsConfig | undefined, logger: Logger): BrokerListener {
  if (!tls) {
    const plain = createHttpServer(app);
    answerClientErrors(plain, logger);
    return { server: plain, scheme: 'http', reload: () => Promise.resolve('unchanged'), close: () => undefined };
  }
  const log = logger.child({ component: 'tls' });
  let current: Pair;
  try {
    current = { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) };
  } catch (err) {
    throw new GtbError('ERR_CONFIG_FILE', `http.tls: cannot read the certificate or key: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  try {
    checkPair(current);
  } catch (err) {
    throw new GtbError('ERR_CONFIG_INVALID', `http.tls: the certificate and key at ${tls.certPath} and ${tls.keyPath} do not load: ${(err as Error).message}`, { cause: err });
  }
  const server = createHttpsServer({ cert: current.cert, key: current.key }, app);
  answerClientErrors(server, logger);
  log.info(describeCert(current.cert), 'serving TLS');

  let rejected: Pair | undefined;
  let lastReadError: string | undefined;
  let running: Promise<'unchanged' | 'reloaded' | 'rejected'> | undefined;
  const same = (a: Pair | undefined, b: Pair) => a !== undefined && a.cert.equals(b.cert) && a.key.equals(b.key);

  async function check(): Promise<'unchanged' | 'reloaded' | 'rejected'> {
    let next: Pair;
    try {
      // Both files are read on every check: during a renewal one may change before the other.
      const [cert, key] = await Promise.all([readFile(tls!.certPath), readFile(tls!.keyPath)]);
      next = { cert, key };
      lastReadError = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (code !== lastReadError) log.warn({ err: code }, 'cannot read the TLS certificate or key; keeping the current pair');
      lastReadError = code;
      return 'rejected';
    }
    if (same(current, next)) return 'unchanged';
    if (same(rejected, next)) return 'rejected';
    try {
      checkPair(next);
      server.setSecureContext({ cert: next.cert, key: next.key });
    } catch (err) {
      rejected = next;
      log.error({ err: (err as Error).message }, 'the new TLS certificate or key does not load; keeping the current pair');
      return 'rejected';
    }
    current = next;
    rejected = undefined;
    log.info(describeCert(next.cert), 'TLS certificate reloaded');
    return 'reloaded';
  }

  const reload = () => {
    running ??= check().finally(() => { running = undefined; });
    return running;
  };
  const timer = setInterval(() => { void reload(); }, tls.reloadIntervalMs);
  timer.unref();
  return { server, scheme: 'https', reload, close: () => clearInterval(timer) };
}
