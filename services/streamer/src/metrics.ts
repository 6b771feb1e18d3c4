import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The streamer's Prometheus metrics, on a registry of its own (several streamers may share a process in tests). */
export function createStreamerMetrics() {
  const registry = new Registry();
  const stream = ['stream'] as const;
  return {
    registry,
    eventsIn: new Counter({ name: 'gtb_streamer_events_in_total', help: 'Events received on notification sockets (doubles included)', labelNames: stream, registers: [registry] }),
    eventsOut: new Counter({ name: 'gtb_streamer_events_out_total', help: 'Events appended to the output stream', labelNames: stream, registers: [registry] }),
    eventsDeduplicated: new Counter({ name: 'gtb_streamer_events_deduplicated_total', help: 'Events dropped as already written (overlap, replica, upstream double)', labelNames: stream, registers: [registry] }),
    eventsDropped: new Counter({ name: 'gtb_streamer_events_dropped_total', help: 'Events dropped because the buffer was full (always reported as a gap)', labelNames: stream, registers: [registry] }),
    lag: new Histogram({
      name: 'gtb_streamer_event_lag_seconds', help: 'From receipt on the socket to acknowledgement by Redis', labelNames: stream, registers: [registry],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    buffered: new Gauge({ name: 'gtb_streamer_buffered_events', help: 'Events waiting for Redis', labelNames: stream, registers: [registry] }),
    rollovers: new Counter({ name: 'gtb_streamer_rollovers_total', help: 'Make-before-break rollovers, by trigger', labelNames: ['stream', 'trigger'] as const, registers: [registry] }),
    gaps: new Counter({ name: 'gtb_streamer_gaps_total', help: 'Gaps reported (stream.gap)', labelNames: ['stream', 'cause'] as const, registers: [registry] }),
    gapsCovered: new Counter({ name: 'gtb_streamer_drops_covered_total', help: 'Times this replica stopped receiving while another replica received all along (active-active): no gap', labelNames: stream, registers: [registry] }),
    resyncEntries: new Counter({ name: 'gtb_streamer_resync_entries_total', help: 'stream.resync snapshot entries written after gaps', labelNames: stream, registers: [registry] }),
    resyncFailures: new Counter({ name: 'gtb_streamer_resync_failures_total', help: 'Topics whose snapshot failed after a gap (listed for backfill instead)', labelNames: stream, registers: [registry] }),
    drops: new Counter({ name: 'gtb_streamer_socket_drops_total', help: 'Sockets that ended, planned or not', labelNames: ['stream', 'planned'] as const, registers: [registry] }),
    topicsRejected: new Counter({ name: 'gtb_streamer_topics_rejected_total', help: 'Topics Genesys refused to subscribe', labelNames: stream, registers: [registry] }),
    sockets: new Gauge({ name: 'gtb_streamer_sockets', help: 'Open notification sockets that are receiving', labelNames: stream, registers: [registry] }),
    owner: new Gauge({ name: 'gtb_streamer_owner', help: '1 when this replica runs the stream (always 1 in active-active)', labelNames: stream, registers: [registry] }),
  };
}

export type StreamerMetrics = ReturnType<typeof createStreamerMetrics>;
