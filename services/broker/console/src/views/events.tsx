import { useState } from 'preact/hooks';
import { clock } from '../format.js';
import type { FeedItem } from '../api.js';

export const EVENT_TYPES = [
  'token.minted', 'token.rotated', 'token.revoked', 'token.mint_failed', 'token.rate_limited',
  'lease.granted', 'lease.renewed', 'lease.released', 'lease.expired',
  'stream.handshake_initiated', 'stream.connected', 'stream.dropped', 'stream.rolled_over', 'stream.gap', 'stream.gap_opened', 'stream.failover',
];

/** One line of what an event says: fingerprints, holders, triggers, bounds (never a token: events carry none). */
export function summary(item: FeedItem): string {
  const d = item.event.data;
  const parts: string[] = [];
  for (const key of ['fingerprint', 'previousFingerprint', 'holder', 'trigger', 'reason', 'cause', 'code', 'from', 'to', 'channelFingerprint', 'fromChannelFingerprint', 'toChannelFingerprint', 'retryAfterSeconds']) {
    if (d[key] !== undefined) parts.push(`${key} ${String(d[key])}`);
  }
  return parts.join(' · ');
}

export function EventRow({ item }: { item: FeedItem }) {
  return (
    <li class={`event type-${item.event.type.replace('.', '-')}`} data-type={item.event.type}>
      <time dateTime={item.event.time}>{clock(item.event.time)}</time>
      <span class="etype">{item.event.type}</span>
      <span class="esubject">{item.event.subject}</span>
      <span class="edata">{summary(item)}</span>
    </li>
  );
}

export function EventsView(props: { events: FeedItem[]; live: boolean }) {
  const [type, setType] = useState('');
  const [profile, setProfile] = useState('');
  const [stream, setStream] = useState('');
  const subjects = (kind: 'profile' | 'stream') => [...new Set(props.events.map((e) => (e.event.data[kind] as string | undefined)).filter((x): x is string => !!x))].sort();
  const shown = props.events.filter((e) => (!type || e.event.type === type)
    && (!profile || e.event.data['profile'] === profile) && (!stream || e.event.data['stream'] === stream)).slice(-500).reverse();
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">Lifecycle events</h2>
      <p class="lede">The <code>gtb:lifecycle</code> stream, newest first: the last few hundred, then live ({props.live ? 'connected' : 'reconnecting…'}).</p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>Type <select value={type} onChange={(e) => setType(e.currentTarget.value)}><option value="">all</option>{EVENT_TYPES.map((t) => <option key={t}>{t}</option>)}</select></label>
        <label>Profile <select value={profile} onChange={(e) => setProfile(e.currentTarget.value)}><option value="">all</option>{subjects('profile').map((t) => <option key={t}>{t}</option>)}</select></label>
        <label>Stream <select value={stream} onChange={(e) => setStream(e.currentTarget.value)}><option value="">all</option>{subjects('stream').map((t) => <option key={t}>{t}</option>)}</select></label>
      </form>
      <ol class="feed" data-testid="feed">
        {shown.map((e) => <EventRow key={e.id} item={e} />)}
      </ol>
      {shown.length === 0 && <p class="empty">No events match.</p>}
    </section>
  );
}
