import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';

const pem = (label: RegExp, what: string) => z.string().regex(label, `must be PEM text holding ${what}`);
const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * TLS towards Redis (or towards its sentinels). The PEM values are normally given as files
 * (`caFile`, `certFile`, `keyFile`), which the configuration loader reads once at start: a rotated
 * Redis CA or client certificate needs a restart (a rolling one is enough).
 */
export const redisTlsSchema = z.strictObject({
  /** PEM of the CA(s) that signed the server's certificate; the system roots when absent. */
  ca: pem(CERTIFICATE, 'one or more certificates').optional()
    .describe('PEM of the CA certificate(s) that signed the Redis server certificates; the system roots when absent. Give it as `caFile: /run/secrets/redis-ca.crt`.'),
  /** Client certificate for mutual TLS (`tls-auth-clients yes`); needs `key`. */
  cert: pem(CERTIFICATE, 'a certificate').optional()
    .describe('Client certificate (PEM) for mutual TLS, when Redis runs with `tls-auth-clients yes`; needs `key`. Give it as `certFile`.'),
  /** Its private key (unencrypted PEM). */
  key: pem(PRIVATE_KEY, 'an unencrypted private key').optional()
    .describe('Private key (unencrypted PEM) of the client certificate.'),
  /**
   * Name checked against the server certificate instead of the host connected to. Needed when the
   * addresses the client learns (a master from Sentinel, nodes from `CLUSTER SLOTS`) are IPs that
   * the certificate does not list.
   */
  servername: z.string().min(1).optional()
    .describe('Host name to check the server certificate against (and sent as SNI) instead of the address connected to; set it when Sentinel or the cluster hand out IP addresses the certificate does not name.'),
  /** Verify the server certificate; never `false` outside a local experiment. */
  rejectUnauthorized: z.boolean().default(true)
    .describe('Verify the server certificate against `ca` and the name. `false` lets anyone on the path read the Redis password and the cached tokens: for a throw-away local experiment only, never in production; give `ca` instead.'),
}).refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'cert and key go together (mutual TLS needs both)' });

export type RedisTlsConfig = z.output<typeof redisTlsSchema>;

/** The `tls.connect()` options ioredis passes through, with unset values left out. */
export function tlsConnectOptions(tls: RedisTlsConfig): ConnectionOptions {
  const out: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized };
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  if (tls.servername !== undefined) out.servername = tls.servername;
  return out;
}
