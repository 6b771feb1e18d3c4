import { z } from 'zod';

/**
 * TLS of the broker's own listener. The certificate and key are named by path, not given as
 * `certFile`/`keyFile`: the configuration loader reads `…File` settings once at start, while the
 * listener keeps re-reading these paths so that a renewed certificate (cert-manager, a Kubernetes
 * secret mount) is served without a restart.
 */
export const httpTlsSchema = z.strictObject({
  /** PEM certificate chain: the server certificate first, then any intermediates. */
  certPath: z.string().min(1)
    .describe('Path of the PEM certificate chain (server certificate first, then intermediates), e.g. `/etc/gtb/tls/tls.crt` from a Kubernetes TLS secret. Re-read every `reloadIntervalMs`; a renewed certificate is served to new connections without a restart.'),
  /** PEM private key of that certificate (unencrypted). */
  keyPath: z.string().min(1)
    .describe('Path of the certificate\'s private key (unencrypted PEM), e.g. `/etc/gtb/tls/tls.key`. A new pair that does not load (a key that does not match, a half-written file) is logged and the current pair kept.'),
  /**
   * How often both files are read and compared with the pair in use. Reading the content (not
   * watching inodes) survives the symlink swap by which Kubernetes updates a secret volume.
   */
  reloadIntervalMs: z.number().int().min(100).max(3_600_000).default(30_000)
    .describe('How often the certificate and key files are read again and compared with the pair in use (content, not file events, so that the symlink swap of a Kubernetes secret volume is seen).'),
});

export type HttpTlsConfig = z.output<typeof httpTlsSchema>;
