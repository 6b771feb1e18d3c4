/** Random identifiers in the shapes Genesys uses, drawn from an injected random-bytes source. */
export type RandomBytes = (size: number) => Buffer;

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** An opaque bearer token: 48 random bytes, base64url (64 characters). */
export function newAccessToken(randomBytes: RandomBytes): string {
  return randomBytes(48).toString('base64url');
}

/** A client secret in the length Genesys shows (43 characters). */
export function newClientSecret(randomBytes: RandomBytes): string {
  return randomBytes(32).toString('base64url');
}

/** A channel id as observed upstream: `streaming-<n>-<26 lowercase alnum>`. */
export function newChannelId(randomBytes: RandomBytes): string {
  const bytes = randomBytes(27);
  let tail = '';
  // Modulo bias is irrelevant here: ids need to be unguessable enough, not uniform.
  for (let i = 1; i < 27; i++) tail += ALNUM[bytes[i]! % ALNUM.length];
  return `streaming-${1 + (bytes[0]! % 9)}-${tail}`;
}

/** A version-4 UUID built from the injected random source. */
export function newUuid(randomBytes: RandomBytes): string {
  const b = Buffer.from(randomBytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
