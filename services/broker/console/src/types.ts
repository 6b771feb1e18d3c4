/** The admin API's answers, as the console reads them (see the broker's /openapi.json). */
export interface Profile {
  name: string;
  region: string | null;
  live_leases: number;
  cache: {
    fingerprint?: string; issuedAt?: number; expiresAt?: number; refreshAt?: number;
    cooldownMs: number; circuit: 'closed' | 'open' | 'half-open'; refreshing: boolean; redisAvailable: boolean;
  };
  mints: { last: { at: string; instance: string; ms: number; outcome: string } | null; per_hour_24h: number[] };
}

export interface Lease {
  lease_id: string;
  profile: string;
  holder: string;
  owner: string;
  granted_at: string;
  lease_expires_at: string;
}

export interface StreamReplica {
  instance: string; alive: boolean; owner: boolean; receiving: boolean; failed: string | null; sockets: number;
  channel_fingerprint: string | null; channel_opened_at: string | null; channel_expires_at: string | null;
  topics: number; events_per_second: number; lag_ms: number | null; rollovers: Record<string, number>; gaps_total: number; buffered: number;
}

export interface Stream {
  name: string;
  profile: string;
  mode: string;
  owners: string[];
  last_event_at: string | null;
  gaps: { from: string; to: string; reason: string; last_sequence: number | null; reported_by: string }[];
  replicas: StreamReplica[];
}

export interface StreamsAnswer {
  now: string;
  replicas: { instance: string; alive: boolean; reported_at: string }[];
  streams: Stream[];
}
