import { createHash } from 'node:crypto';

/**
 * What logs and events carry instead of a secret: the first 12 hex digits of its SHA-256.
 * Enough to correlate two log lines, far too little to recover or brute-force a random token.
 */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

/** A connect URI without its secret part: scheme, host and the first characters of the path. */
export function redactUri(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}/…#${fingerprint(uri)}`;
  } catch {
    return `invalid-uri#${fingerprint(uri)}`;
  }
}
