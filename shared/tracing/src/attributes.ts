/**
 * What may go into a span attribute. Traces leave the process for any collector, so they get the
 * same rule as logs and lifecycle events: never a token, client secret, connect URI or channel id;
 * fingerprints (`fingerprint()` of @gtb/logger) instead. `scrubAttribute` is the last line: the SDK's
 * redacting processor (sdk.ts) passes every attribute of every span through it, ours and the
 * instrumentations' (URLs, Redis statements), before any exporter sees it.
 */

/** A string that looks like a credential: a JWT, or a long run of base64url / hex characters. */
const CREDENTIAL_LIKE = /eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){1,2}|[A-Za-z0-9+/_=-]{40,}/;

/** Path segments after these are capabilities (a channel id is the connect URI's secret part). */
const CAPABILITY_SEGMENT = /\/(channels)\/[^/?#\s]+/gi;

export const REDACTED = '[redacted]';

/** A URL or path without its query and fragment, and with capability segments replaced. */
export function scrubUrl(value: string): string {
  const cut = value.search(/[?#]/);
  const base = cut < 0 ? value : value.slice(0, cut);
  return base.replace(CAPABILITY_SEGMENT, '/$1/{id}');
}

/** Keys whose value is a URL, a path or a request target (semantic conventions, old and stable). */
const URL_KEYS = new Set(['http.url', 'http.target', 'url.full', 'url.path', 'url.query', 'http.route', 'url.original']);

/** The attribute as it may leave the process. */
export function scrubAttribute(key: string, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => scrubAttribute(key, v));
  if (typeof value !== 'string') return value;
  if (key === 'url.query') return REDACTED;
  let scrubbed = URL_KEYS.has(key) || value.includes('://') || value.startsWith('/') ? scrubUrl(value) : value;
  scrubbed = scrubbed.replace(CAPABILITY_SEGMENT, '/$1/{id}');
  return CREDENTIAL_LIKE.test(scrubbed) ? scrubbed.replace(new RegExp(CREDENTIAL_LIKE, 'g'), REDACTED) : scrubbed;
}

/**
 * A Redis command as a span shows it: the command and its first argument (the key), never values:
 * the default serializer of the ioredis instrumentation prints every argument of EVAL/EVALSHA (our
 * fenced write carries the encrypted token, the streamer's write script carries the event).
 */
export function redisStatement(command: string, args: readonly unknown[]): string {
  // EVAL/EVALSHA: script, numkeys, keys…: the first key says what it touched.
  const script = /^eval/i.test(command);
  const first = script ? (Number(args[1]) > 0 ? args[2] : undefined) : args[0];
  if (script) return first === undefined ? command : `${command} ${String(first)}`;
  return typeof first === 'string' || typeof first === 'number' || Buffer.isBuffer(first)
    ? `${command} ${String(first)}${args.length > 1 ? ` [${args.length - 1} other arguments]` : ''}`
    : command;
}
