import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { GtbError } from '@gtb/errors';

const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12; // GCM's recommended nonce size (NIST SP 800-38D)
const TAG_BYTES = 16;

/**
 * Key ring configuration. `key` is base64 of 32 random bytes; loadConfig resolves `keyFile` /
 * `keyEnv` into it. Old keys stay listed until every cached token encrypted with them has expired.
 */
export const keyRingConfigSchema = z
  .strictObject({
    keys: z
      .array(z.strictObject({
        id: z.string().regex(KID_PATTERN, `must match ${KID_PATTERN}`),
        key: z.string().refine((k) => decodeKey(k) !== undefined, 'must be base64 of exactly 32 bytes'),
      }))
      .min(1),
    primary: z.string(),
  })
  .superRefine((ring, ctx) => {
    const ids = ring.keys.map((k) => k.id);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', path: ['keys'], message: 'key ids must be unique' });
    if (!ids.includes(ring.primary)) ctx.addIssue({ code: 'custom', path: ['primary'], message: 'must name one of keys[].id' });
  });

export type KeyRingConfig = z.output<typeof keyRingConfigSchema>;

/** AES-256-GCM with key ids, so keys can rotate while older ciphertexts stay readable. */
export interface KeyRing {
  /** The kid new ciphertexts are written with. */
  readonly primary: string;
  /** `v1.<kid>.<iv>.<tag>.<ciphertext>` (base64url); `aad` is bound, not stored. */
  encrypt(plaintext: string, aad: string): string;
  /** Decrypts with the kid named in the ciphertext; ERR_DECRYPT on unknown kid, bad format or bad tag. */
  decrypt(ciphertext: string, aad: string): string;
}

/** Builds a key ring; ERR_CONFIG_INVALID for a bad configuration (messages never show keys). */
export function createKeyRing(config: KeyRingConfig): KeyRing {
  const parsed = keyRingConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new GtbError('ERR_CONFIG_INVALID', `key ring: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const keys = new Map<string, Buffer>();
  for (const { id, key } of parsed.data.keys) keys.set(id, decodeKey(key)!);
  const primary = parsed.data.primary;
  const primaryKey = keys.get(primary)!;

  return {
    primary,
    encrypt(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', primaryKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', primary, b64(iv), b64(cipher.getAuthTag()), b64(ct)].join('.');
    },
    decrypt(ciphertext, aad) {
      const parts = ciphertext.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new GtbError('ERR_DECRYPT', 'ciphertext is not in the v1 format');
      const [, kid, ivText, tagText, ctText] = parts as [string, string, string, string, string];
      const key = keys.get(kid);
      if (!key) throw new GtbError('ERR_DECRYPT', `no key with id ${JSON.stringify(kid.slice(0, 32))} in the key ring`);
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new GtbError('ERR_DECRYPT', 'ciphertext has a bad iv or tag length');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new GtbError('ERR_DECRYPT', `ciphertext failed authentication under key ${kid}`, { cause: err });
      }
    },
  };
}

function b64(buf: Buffer): string {
  return buf.toString('base64url');
}

function decodeKey(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text.trim())) return undefined;
  const buf = Buffer.from(text.trim(), 'base64');
  return buf.length === 32 ? buf : undefined;
}
