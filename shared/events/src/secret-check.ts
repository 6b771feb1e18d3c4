/**
 * The last line of defence against a token or secret leaking into a lifecycle event. The data
 * schemas are strict (no `access_token` field can slip in), but a free-text field such as
 * `message` or `reason` could still carry one, e.g. an upstream error that echoes the request.
 *
 * A string is refused when it contains any of:
 * - a JWS/JWT compact serialisation (`eyJ…` header, dot, payload, dot);
 * - an HTTP credential: `Bearer <x>` or `Basic <x>`;
 * - a WebSocket URI (`ws://`, `wss://`): a Genesys `connectUri` is a capability;
 * - a Genesys notification channel id (`streaming-<n>-<id>`): the connectUri is built from it, so
 *   it opens the channel's socket just as well (events name channels by fingerprint);
 * - a URL with a password in its user-info (`scheme://user:pass@`);
 * - a run of 32+ token characters mixing upper case, lower case and digits (base64/base64url of
 *   random bytes: opaque Genesys tokens, client secrets);
 * - a run of 48+ token characters of any kind (long hex secrets).
 *
 * The thresholds leave room for what events legitimately hold: 12-hex fingerprints, UUIDs (36),
 * stream and instance names, ISO times.
 * A 32-hex secret in lower case would pass; schemas keep such fields out by their formats instead.
 */
const PATTERNS: ReadonlyArray<{ name: string; test: (s: string) => boolean }> = [
  { name: 'jwt', test: (s) => /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./.test(s) },
  { name: 'http-credential', test: (s) => /\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/i.test(s) },
  { name: 'websocket-uri', test: (s) => /\bwss?:\/\//i.test(s) },
  { name: 'channel-id', test: (s) => /\bstreaming-\d+-[a-z0-9]{16,}/i.test(s) },
  { name: 'url-password', test: (s) => /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i.test(s) },
  { name: 'opaque-token', test: hasLongMixedRun },
];

const TOKEN_RUN = /[A-Za-z0-9._~+/=-]{32,}/g;

function hasLongMixedRun(s: string): boolean {
  for (const [run] of s.matchAll(TOKEN_RUN)) {
    if (run.length >= 48) return true;
    if (/[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run)) return true;
  }
  return false;
}

/** Why a string looks like a secret (the rule's name), or undefined when it does not. */
export function secretLikeReason(value: string): string | undefined {
  return PATTERNS.find((p) => p.test(value))?.name;
}

/** The path and rule of the first string inside `value` that looks like a secret, if any. */
export function findSecretLike(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; rule: string } | undefined {
  if (typeof value === 'string') {
    const rule = secretLikeReason(value);
    return rule === undefined ? undefined : { path, rule };
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const hit = findSecretLike(item, [...path, i]);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const hit = findSecretLike(item, [...path, key]);
      if (hit) return hit;
    }
  }
  return undefined;
}
