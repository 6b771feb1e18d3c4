/** What the sandbox counts, so that tests measure upstream calls and losses instead of guessing. */
export interface Counters {
  /** Successful `/oauth/token` answers per client id. */
  tokensMinted: Record<string, number>;
  /** Token requests answered with the 400 rate-limit body (limit or fault) per client id. */
  tokenRequestsRejected: Record<string, number>;
  /** Token requests refused for bad client credentials. */
  tokenRequestsInvalidClient: number;
  tokensRevoked: number;
  /** Platform API requests seen (after authentication). */
  apiRequests: number;
  /** Platform API requests answered 429 (limit or fault). */
  apiRequestsThrottled: number;
  channelsCreated: number;
  channelsEvicted: number;
  channelsExpired: number;
  socketsOpened: number;
  socketsClosed: number;
  heartbeatsSent: number;
  /** Events generated (one per sequence number) per topic. */
  eventsGenerated: Record<string, number>;
  /** Event frames written to sockets, duplicates included, per channel id. */
  eventsSentByChannel: Record<string, number>;
  /** Event frames written to sockets, duplicates included, per topic. */
  eventsSentByTopic: Record<string, number>;
  /** Events a fault swallowed (stalled socket) per channel id. */
  eventsDroppedByChannel: Record<string, number>;
  /** Extra frames written by the `duplicate` fault. */
  eventsDuplicated: number;
}

/** A zeroed set of counters. */
export function createCounters(): Counters {
  return {
    tokensMinted: {},
    tokenRequestsRejected: {},
    tokenRequestsInvalidClient: 0,
    tokensRevoked: 0,
    apiRequests: 0,
    apiRequestsThrottled: 0,
    channelsCreated: 0,
    channelsEvicted: 0,
    channelsExpired: 0,
    socketsOpened: 0,
    socketsClosed: 0,
    heartbeatsSent: 0,
    eventsGenerated: {},
    eventsSentByChannel: {},
    eventsSentByTopic: {},
    eventsDroppedByChannel: {},
    eventsDuplicated: 0,
  };
}

/** Adds `by` to `map[key]`. */
export function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}
