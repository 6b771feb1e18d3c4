/** A problem+json answer of the broker, as an Error the views can show. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string | undefined, message: string) {
    super(message);
  }
}

export type Fetcher = <T>(path: string, init?: RequestInit) => Promise<T>;

/** Calls the broker's admin API with the operator's IdP token as a bearer (no cookie, no session). */
export function createApi(token: () => string | undefined): Fetcher {
  return async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const t = token();
    if (!t) throw new ApiError(401, 'ERR_SIGNED_OUT', 'signed out');
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${t}`);
    const res = await fetch(path, { ...init, headers, cache: 'no-store' });
    if (res.status === 204) return undefined as T;
    const body = await res.json().catch(() => ({})) as { code?: string; detail?: string; title?: string };
    if (!res.ok) throw new ApiError(res.status, body.code, body.detail ?? body.title ?? `HTTP ${res.status}`);
    return body as T;
  };
}

export interface CloudEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
}

export interface FeedItem {
  id: string;
  event: CloudEvent;
}

/**
 * Follows `/v1/events/stream` (server-sent events) with fetch, since EventSource cannot send the
 * bearer. Reconnects after a drop, resuming after the last id it saw; stops when aborted.
 */
export function followFeed(token: () => string | undefined, since: string | undefined, onEvents: (items: FeedItem[]) => void, onState: (live: boolean) => void, signal: AbortSignal): void {
  let last = since;
  const once = async () => {
    const headers: Record<string, string> = { authorization: `Bearer ${token() ?? ''}` };
    if (last) headers['last-event-id'] = last;
    const res = await fetch('/v1/events/stream', { headers, signal, cache: 'no-store' });
    if (!res.ok || !res.body) throw new ApiError(res.status, undefined, `feed answered ${res.status}`);
    onState(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      const batch: FeedItem[] = [];
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = '';
        let event = '';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (event === 'lifecycle' && data) {
          last = id;
          batch.push({ id, event: JSON.parse(data) as CloudEvent });
        }
      }
      if (batch.length) onEvents(batch);
    }
  };
  void (async () => {
    while (!signal.aborted) {
      try { await once(); } catch { /* dropped: retried below */ }
      onState(false);
      if (signal.aborted || !token()) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
}
