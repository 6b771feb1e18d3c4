import { GtbError } from '@gtb/errors';
import { EVENT_TYPES, createEventFilter, createEventSubscriber, parseEvent, readEvents, type AnyCloudEvent, type Since } from '@gtb/events';
import { createKeys, createRedis, duplicateRedis, waitReady, type Keys, type RedisClient } from '@gtb/redis';
import { onlyOptions } from '../args.js';
import type { CommandInput } from '../context.js';
import { jsonLine, line } from '../output.js';
import { parseSince } from '../since.js';

/** Ready, or the first connection error: a CLI should say "Redis is down" at once, not retry for long. */
async function connected(clients: RedisClient[]): Promise<void> {
  try {
    await Promise.all(clients.map((client) => Promise.race([
      waitReady(client, 5000),
      new Promise<never>((_, reject) => client.once('error', reject)),
    ])));
  } catch (err) {
    throw new GtbError('ERR_REDIS_UNAVAILABLE', `Redis is not reachable at REDIS_URL: ${(err as Error).message}`, { cause: err });
  }
}

const GROUPS = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));

function checkTypes(types: string[] | undefined): void {
  for (const type of types ?? []) {
    const group = type.endsWith('.*') ? type.slice(0, -2) : undefined;
    if (type === '*' || (EVENT_TYPES as string[]).includes(type) || (group !== undefined && GROUPS.has(group))) continue;
    throw new GtbError('ERR_USAGE', `--type ${JSON.stringify(type.slice(0, 60))} is no event type; known: ${EVENT_TYPES.join(', ')} (or token.*, lease.*, stream.*, *)`);
  }
}

function print(input: CommandInput, event: AnyCloudEvent, streamId?: string): void {
  if (input.json) {
    jsonLine(input, streamId === undefined ? event : { ...event, streamId });
    return;
  }
  // Data never holds a token (the event schemas refuse it), only fingerprints: safe to show.
  const data = Object.entries(event.data as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  line(input, `${event.time}  ${event.type.padEnd(26)} ${event.subject ?? '-'}  ${data}`);
}

/** The newest `count` matching events, oldest first, and the newest stream id overall (the live cursor). */
async function lastEvents(redis: RedisClient, keys: Keys, matches: (e: AnyCloudEvent) => boolean, count: number) {
  const found: { streamId: string; event: AnyCloudEvent }[] = [];
  let cursor: string | undefined;
  let end = '+';
  // Scan back at most 10 000 entries for matches, so a rare type does not read a huge stream.
  for (let scanned = 0; found.length < count && scanned < 10_000;) {
    const page = (await redis.xrevrange(keys.lifecycleStream(), end, '-', 'COUNT', 200)) as [string, string[]][];
    if (page.length === 0) break;
    cursor ??= page[0]![0];
    for (const [id, fields] of page) {
      const at = fields.indexOf('event');
      try {
        const event = parseEvent(fields[at + 1]);
        if (matches(event)) found.push({ streamId: id, event });
      } catch {
        // Invalid entries are skipped here as readEvents skips them.
      }
      if (found.length >= count) break;
    }
    scanned += page.length;
    end = `(${page.at(-1)![0]}`;
  }
  return { events: found.reverse(), cursor };
}

/** `gtb events tail [--type t]… [--subject s]… [--since …] [-n N] [--once]`: lifecycle events from Redis. */
export async function eventsTailCommand(input: CommandInput): Promise<number> {
  onlyOptions(input.args, 'events tail', ['type', 'subject', 'since', 'lines', 'once', 'redis-url', 'key-prefix']);
  const { values, positionals } = input.args;
  if (positionals[1] !== 'tail' || positionals.length > 2) throw new GtbError('ERR_USAGE', 'usage: gtb events tail [--type <type>]… [--subject <name>]… [--since <id|time|15m>] [-n <lines>] [--once]');
  checkTypes(values.type);
  const now = (input.ctx.now ?? Date.now)();
  const since: Since | undefined = values.since === undefined ? undefined : parseSince(values.since, now);
  const lines = values.lines === undefined ? 10 : Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0 || lines > 10_000) throw new GtbError('ERR_USAGE', '--lines must be an integer from 0 to 10000');
  const url = values['redis-url'] ?? input.ctx.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url)) throw new GtbError('ERR_CONFIG_INVALID', 'REDIS_URL (or --redis-url) must be a redis:// or rediss:// URL');
  const keys = createKeys(values['key-prefix'] ?? input.ctx.env['GTB_KEY_PREFIX'] ?? 'gtb');
  const matches = createEventFilter(values.type, values.subject);

  const redis = createRedis({ mode: 'standalone', url }, { connectionName: 'gtb-cli', failFast: true });
  redis.on('error', () => {}); // reported through waitReady and failed commands
  const connections: RedisClient[] = [redis];
  try {
    await connected([redis]);
    let cursor: string | undefined;
    if (since === undefined) {
      const last = await lastEvents(redis, keys, matches, lines);
      for (const { streamId, event } of last.events) print(input, event, streamId);
      cursor = last.cursor;
    } else {
      let from: Since = since;
      for (;;) {
        const page = await readEvents({ redis, keys, since: from, count: 1000 });
        for (const { streamId, event } of page) if (matches(event)) print(input, event, streamId);
        const tail = page.at(-1);
        if (tail) cursor = tail.streamId;
        if (!tail || page.length < 1000) break;
        from = tail.streamId;
      }
    }
    if (values.once || input.ctx.signal?.aborted) return 0;

    const subscriberRedis = duplicateRedis(redis);
    subscriberRedis.on('error', () => {});
    connections.push(subscriberRedis);
    const replayRedis = duplicateRedis(redis);
    replayRedis.on('error', () => {});
    connections.push(replayRedis);
    // Fail-fast connections (a dead Redis must not hang the CLI) refuse commands until ready.
    await connected([subscriberRedis, replayRedis]);
    // From the history's last id (or, with none, from the start and the caller's since): nothing falls between.
    const subscriber = createEventSubscriber({
      redis: subscriberRedis, replayRedis, keys, types: values.type, subjects: values.subject,
      since: cursor ?? since ?? '0',
      onEvent: (event) => print(input, event),
      onError: (error) => input.ctx.stderr.write(`gtb: ${error.message} [${error.code}]\n`),
    });
    await subscriber.start();
    await new Promise<void>((resolve) => {
      if (!input.ctx.signal || input.ctx.signal.aborted) return resolve();
      input.ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await subscriber.close();
    return 0;
  } finally {
    for (const c of connections) c.disconnect();
  }
}
