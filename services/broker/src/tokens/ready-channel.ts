import { GtbError, isErrorCode } from '@gtb/errors';
import { TRACEPARENT_PATTERN } from '@gtb/tracing';

/** What a profile's ready channel carries: a new token, a failed mint, or a revocation. */
export type ReadyMessage =
  | { kind: 'ready'; fence: number; fingerprint: string; traceparent?: string }
  | { kind: 'failed'; error: string; retryAfter?: number; traceparent?: string }
  | { kind: 'revoked'; fence?: number };

/** Encodes a message for `PUBLISH keys.tokenNotices(p)`. */
export function encodeReady(message: ReadyMessage): string {
  return JSON.stringify(message);
}

/** Decodes a message; undefined for anything malformed (another version, a stray publisher). */
export function decodeReady(text: string): ReadyMessage | undefined {
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    // The minting span's W3C traceparent (when the holder traced the mint): waiters link to it.
    const traced = typeof m.traceparent === 'string' && TRACEPARENT_PATTERN.test(m.traceparent) ? { traceparent: m.traceparent } : {};
    if (m.kind === 'ready' && typeof m.fence === 'number' && typeof m.fingerprint === 'string') return { kind: 'ready', fence: m.fence, fingerprint: m.fingerprint, ...traced };
    if (m.kind === 'failed' && typeof m.error === 'string') {
      return { kind: 'failed', error: m.error, ...(typeof m.retryAfter === 'number' ? { retryAfter: m.retryAfter } : {}), ...traced };
    }
    if (m.kind === 'revoked') return { kind: 'revoked', ...(typeof m.fence === 'number' ? { fence: m.fence } : {}) };
  } catch {
    // fall through
  }
  return undefined;
}

/** Turns a `failed` message back into the error the mint holder saw. */
export function errorFromReady(message: Extract<ReadyMessage, { kind: 'failed' }>): GtbError {
  const code = isErrorCode(message.error) ? message.error : 'ERR_UPSTREAM_UNAVAILABLE';
  return new GtbError(code, 'the replica minting this token failed', message.retryAfter === undefined ? {} : { retryAfter: message.retryAfter });
}

/**
 * Waiters on profiles' ready channels. `wait` resolves with the next message of the profile or with
 * undefined after `ms` (the bounded fallback poll), so a lost pub/sub message costs one poll interval.
 */
export function createReadyWaiters() {
  const waiters = new Map<string, Set<(m: ReadyMessage | undefined) => void>>();
  // The last traced ready message per profile, heard whether or not anyone waited: a caller that
  // found the token by its fallback poll (the message came between its lock attempt and its wait)
  // still links to the mint that wrote it.
  const minted = new Map<string, { fence: number; traceparent: string }>();
  let closed = false;

  return {
    wait(profile: string, ms: number): Promise<ReadyMessage | undefined> {
      if (closed) return Promise.reject(new GtbError('ERR_SHUTTING_DOWN'));
      return new Promise((resolve, reject) => {
        const set = waiters.get(profile) ?? new Set();
        waiters.set(profile, set);
        const done = (m: ReadyMessage | undefined) => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0 && waiters.get(profile) === set) waiters.delete(profile);
          if (closed) reject(new GtbError('ERR_SHUTTING_DOWN'));
          else resolve(m);
        };
        const timer = setTimeout(() => done(undefined), ms);
        set.add(done);
      });
    },
    notify(profile: string, message: ReadyMessage): void {
      if (message.kind === 'ready' && message.traceparent) minted.set(profile, { fence: message.fence, traceparent: message.traceparent });
      for (const done of [...(waiters.get(profile) ?? [])]) done(message);
    },
    /** The traceparent of the mint that wrote the token with this fence, when its ready message carried one. */
    minter(profile: string, fence: number): string | undefined {
      const last = minted.get(profile);
      return last && last.fence === fence ? last.traceparent : undefined;
    },
    close(): void {
      closed = true;
      for (const set of waiters.values()) for (const done of [...set]) done(undefined);
      waiters.clear();
    },
  };
}

export type ReadyWaiters = ReturnType<typeof createReadyWaiters>;
