import { WebSocket } from 'ws';

/**
 * The usual practice, for comparison in the soak run: get a token, create a channel, subscribe,
 * connect, and when the socket closes, do it all again. No overlap, no watchdog, no dedupe.
 * It records the sequence numbers it saw.
 */
export interface NaiveClient {
  seen: Set<number>;
  reconnects: number;
  channelId: string | undefined;
  stop(): void;
}

/** Starts the naive client against a broker (`GET /v1/tokens/{profile}`) and the sandbox API. */
export async function startNaiveClient(opts: { brokerUrl: string; idpToken: string; profile: string; topic: string }): Promise<NaiveClient> {
  const client: NaiveClient = { seen: new Set(), reconnects: 0, channelId: undefined, stop: () => { stopped = true; ws?.terminate(); } };
  let stopped = false;
  let ws: WebSocket | undefined;

  async function connect(): Promise<void> {
    const tokenRes = await fetch(`${opts.brokerUrl}/v1/tokens/${opts.profile}`, { headers: { authorization: `Bearer ${opts.idpToken}` } });
    const { access_token: token, api_base_url: api } = await tokenRes.json() as { access_token: string; api_base_url: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const channel = await (await fetch(`${api}/api/v2/notifications/channels`, { method: 'POST', headers: auth })).json() as { id: string; connectUri: string };
    await fetch(`${api}/api/v2/notifications/channels/${channel.id}/subscriptions`, { method: 'PUT', headers: auth, body: JSON.stringify([{ id: opts.topic }]) });
    client.channelId = channel.id;
    ws = new WebSocket(channel.connectUri);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { topicName?: string; eventBody?: { sequence?: number } };
      if (frame.topicName === opts.topic && typeof frame.eventBody?.sequence === 'number') client.seen.add(frame.eventBody.sequence);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (stopped) return;
      client.reconnects += 1;
      const retry = () => { if (!stopped) connect().catch(() => setTimeout(retry, 100)); };
      retry();
    });
    await new Promise<void>((resolve) => ws!.once('open', () => resolve()));
  }

  await connect();
  return client;
}
