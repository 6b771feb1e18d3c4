import type { TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../src/index.js';

export const ADMIN_KEY = 'test-admin-key';

/** A settable clock for the sandbox's injected `now()`. */
export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

/** A clock starting at a fixed instant that only moves when told. */
export function testClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Starts a sandbox on 127.0.0.1:0 and closes it after the test. */
export async function sandbox(t: TestContext, options: SandboxOptions = {}): Promise<RunningSandbox> {
  const sb = await startSandbox({ adminKey: ADMIN_KEY, sweepIntervalMs: 50, ...options });
  t.after(() => sb.close());
  return sb;
}

/** POST /oauth/token with Basic auth and a form body. */
export function tokenRequest(sb: RunningSandbox, clientId: string, clientSecret: string, body = 'grant_type=client_credentials'): Promise<Response> {
  return fetch(`${sb.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body,
  });
}

/** Creates a client and mints one token for it. */
export async function clientWithToken(sb: RunningSandbox, spec: Parameters<RunningSandbox['admin']['createClient']>[0] = {}) {
  const creds = sb.admin.createClient(spec);
  const res = await tokenRequest(sb, creds.clientId, creds.clientSecret);
  if (res.status !== 200) throw new Error(`token request failed: ${res.status}`);
  const body = (await res.json()) as { access_token: string; expires_in: number };
  return { ...creds, token: body.access_token, expiresIn: body.expires_in };
}

/** A platform API call with a bearer token and, when given, a JSON body. */
export function api(sb: RunningSandbox, token: string | undefined, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${sb.url}/api/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export interface ChannelInfo {
  id: string;
  connectUri: string;
  expires: string;
}

/** Creates a channel and subscribes the topics. */
export async function channelWith(sb: RunningSandbox, token: string, topics: string[]): Promise<ChannelInfo> {
  const res = await api(sb, token, 'POST', '/notifications/channels');
  if (res.status !== 200) throw new Error(`channel create failed: ${res.status}`);
  const channel = (await res.json()) as ChannelInfo;
  if (topics.length > 0) {
    const sub = await api(sb, token, 'PUT', `/notifications/channels/${channel.id}/subscriptions`, topics.map((id) => ({ id })));
    if (sub.status !== 200) throw new Error(`subscribe failed: ${sub.status}`);
  }
  return channel;
}

/** A WebSocket client that records every frame it receives and how it closed. */
export interface RecordingSocket {
  ws: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  isClosed: () => boolean;
  events: (topic?: string) => { topicName: string; eventBody: { sequence: number }; metadata: { CorrelationId: string } }[];
}

/** Connects to a channel and waits for the socket to open; closes it after the test. */
export async function connect(t: TestContext, uri: string): Promise<RecordingSocket> {
  const ws = new WebSocket(uri);
  const frames: Record<string, unknown>[] = [];
  let isClosed = false;
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      isClosed = true;
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on('error', () => undefined);
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    closed,
    isClosed: () => isClosed,
    events: (topic) => frames.filter((f) => typeof f.topicName === 'string' && f.topicName.startsWith('v2.') && (topic === undefined || f.topicName === topic)) as ReturnType<RecordingSocket['events']>,
  };
}

/** A promise of the status code with which an upgrade to `uri` is refused (or 101). */
export function upgradeStatus(uri: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(uri);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

/** POST/GET/DELETE on the admin API with the test admin key. */
export function adminCall(sb: RunningSandbox, method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<Response> {
  const headers: Record<string, string> = {};
  if (key !== null) headers['x-sandbox-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${sb.url}/__sandbox${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
