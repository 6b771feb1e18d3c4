import { GtbError, type FetchLike } from '@gtb/errors';

/** A response whose body was read within the timeout. */
export interface ReadResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One HTTP exchange bounded by `timeoutMs`, body included (the same signal aborts the body read).
 * Maps a timeout to ERR_UPSTREAM_TIMEOUT and any network failure to ERR_UPSTREAM_UNAVAILABLE; the
 * URL is named, never the headers (they hold credentials).
 */
export async function exchange(fetchFn: FetchLike, url: string, init: RequestInit, timeoutMs: number, what: string): Promise<ReadResponse> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetchFn(url, { ...init, signal, redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    if (signal.aborted || isTimeout(err)) {
      throw new GtbError('ERR_UPSTREAM_TIMEOUT', `${what}: no answer from ${url} within ${timeoutMs} ms`, { cause: err });
    }
    throw new GtbError('ERR_UPSTREAM_UNAVAILABLE', `${what}: ${url} unreachable (${errName(err)})`, { cause: err });
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function errName(err: unknown): string {
  if (err instanceof Error) {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? code : err.name;
  }
  return 'error';
}

/** Parses JSON, undefined when it is not. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Joins a base URL and an absolute path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** Rejects options that are not an http(s) URL, quoting the option's name. */
export function assertBaseUrl(name: string, value: unknown): string {
  if (typeof value === 'string') {
    try {
      const u = new URL(value);
      if (u.protocol === 'https:' || u.protocol === 'http:') return value;
    } catch {
      // fall through to the error below
    }
  }
  throw new GtbError('ERR_CONFIG_INVALID', `option ${name} must be an http(s) URL`);
}

/** Rejects a timeout that is not a positive finite number, quoting the option's name. */
export function assertTimeout(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new GtbError('ERR_CONFIG_INVALID', `option ${name} must be a positive number of milliseconds`);
  return value;
}
