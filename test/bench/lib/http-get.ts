import { request, type Agent } from 'node:http';

/** The outcome of one GET: its status (0 when the request failed) and, on failure, why. */
export interface GetOutcome {
  status: number;
  error?: string;
}

/**
 * One GET through a keep-alive agent; the body is read and dropped (a real client reads it, and an
 * unread body would hold the socket). Never rejects: failures come back as status 0.
 */
export function httpGet(agent: Agent, url: URL, headers: Record<string, string>, timeoutMs: number): Promise<GetOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: GetOutcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const req = request(url, { agent, method: 'GET', headers }, (res) => {
      res.on('error', (err) => done({ status: 0, error: err.message }));
      res.on('end', () => done({ status: res.statusCode ?? 0 }));
      res.resume();
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => done({ status: 0, error: err.message }));
    req.end();
  });
}
