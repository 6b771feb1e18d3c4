import { Agent, request } from 'node:http';

/** One answer, with how long it took (ms, from before the request to the whole body). */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  ms: number;
  /** Date.now() when the answer was complete. */
  at: number;
}

/**
 * A keep-alive agent with a bounded number of sockets per origin, so a storm of 1,000 callers
 * becomes at most `maxSockets` connections per replica instead of 1,000 (the broker still sees
 * hundreds of concurrent requests) and nothing runs out of file descriptors on CI.
 */
export function createAgent(maxSockets = 200): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** GET `url` with a bearer token; rejects after `timeoutMs` so no caller hangs a test. */
export function getJson(url: string, options: { bearer?: string; agent?: Agent; timeoutMs?: number } = {}): Promise<Answer> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      agent: options.agent,
      headers: options.bearer ? { authorization: `Bearer ${options.bearer}` } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { raw: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started, at: Date.now() });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.end();
  });
}
