import { Chart } from '../components.js';
import { ago, clock, duration } from '../format.js';
import type { StreamsAnswer } from '../types.js';

/** Events per second of one stream, sampled by the page at each refresh: [seconds, value]. */
export type RateHistory = Record<string, { xs: number[]; ys: number[] }>;

export function StreamsView(props: { streams: StreamsAnswer | undefined; rates: RateHistory; now: number }) {
  if (!props.streams) return <p>Loading streams…</p>;
  const { replicas, streams } = props.streams;
  return (
    <section aria-labelledby="streams-title">
      <h2 id="streams-title">Streams</h2>
      <p class="lede">What each streamer replica reports through Redis with a heartbeat: a replica that misses three is dead, not quiet. Channels by fingerprint only.</p>
      <p>Replicas: {replicas.length === 0 ? 'none reporting' : replicas.map((r) => (
        <span key={r.instance} class={`badge ${r.alive ? 'ok' : 'bad'}`}>{r.instance} {r.alive ? 'alive' : `dead (last heard ${ago(r.reported_at, props.now)})`}</span>
      ))}</p>
      <div class="cards">
        {streams.map((s) => {
          const rate = props.rates[s.name] ?? { xs: [], ys: [] };
          const eps = s.replicas.filter((r) => r.alive && r.owner).reduce((a, r) => a + r.events_per_second, 0);
          return (
            <article class="card wide" key={s.name} data-testid={`stream-${s.name}`} aria-labelledby={`stream-${s.name}-title`}>
              <header class="card-head">
                <h3 id={`stream-${s.name}-title`}>{s.name}</h3>
                <span class="muted">profile {s.profile} · {s.mode}</span>
                <span class={`badge ${s.owners.length ? 'ok' : 'bad'}`}>{s.owners.length ? `run by ${s.owners.join(', ')}` : 'no live owner'}</span>
              </header>
              <dl class="facts">
                <dt>Events per second</dt><dd data-testid="eps">{eps.toFixed(1)}</dd>
                <dt>Last event</dt><dd>{s.last_event_at ? `${clock(s.last_event_at)} (${ago(s.last_event_at, props.now)})` : 'none yet'}</dd>
                <dt>Gaps</dt><dd data-testid="gap-count">{s.gaps.length === 0 ? 'none' : `${s.gaps.length} recent`}</dd>
              </dl>
              <figure>
                <figcaption>Events per second (sampled every 2 s while this page is open)</figcaption>
                <Chart label={`events per second of ${s.name}`} xs={rate.xs} ys={rate.ys} height={110} />
              </figure>
              <div class="table-wrap" tabIndex={0} aria-label={`replicas of ${s.name}`}>
                <table>
                  <thead><tr><th scope="col">Replica</th><th scope="col">Role</th><th scope="col">Sockets</th><th scope="col">Channel</th><th scope="col">Channel age / expiry</th><th scope="col">Topics</th><th scope="col">Events/s</th><th scope="col">Lag</th><th scope="col">Rollovers</th><th scope="col">Buffered</th></tr></thead>
                  <tbody>
                    {s.replicas.map((r) => (
                      <tr key={r.instance}>
                        <th scope="row">{r.instance} <span class={`badge ${r.alive ? 'ok' : 'bad'}`}>{r.alive ? 'alive' : 'dead'}</span></th>
                        <td>{r.owner ? (r.receiving ? 'owner, receiving' : 'owner, connecting') : 'standby'}{r.failed ? <span class="warn"> — {r.failed}</span> : null}</td>
                        <td>{r.sockets}</td>
                        <td><code>{r.channel_fingerprint ?? '—'}</code></td>
                        <td data-testid="channel-age-expiry">{r.channel_opened_at ? duration(props.now - Date.parse(r.channel_opened_at)) : '—'} / {r.channel_expires_at ? `in ${duration(Date.parse(r.channel_expires_at) - props.now)}` : '—'}</td>
                        <td>{r.topics}</td>
                        <td>{r.events_per_second.toFixed(1)}</td>
                        <td>{r.lag_ms === null ? '—' : `${r.lag_ms.toFixed(1)} ms`}</td>
                        <td class="wrap">{Object.entries(r.rollovers).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}</td>
                        <td>{r.buffered}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {s.gaps.length > 0 && (
                <>
                  <h4>Recent gaps (events may be missing between these bounds)</h4>
                  <ul class="gaps" data-testid="gaps">
                    {s.gaps.map((g) => (
                      <li key={`${g.from}-${g.to}`}>{clock(g.from)} → {clock(g.to)} ({duration(Date.parse(g.to) - Date.parse(g.from))}): {g.reason}{g.last_sequence !== null ? `, last sequence ${g.last_sequence}` : ''}</li>
                    ))}
                  </ul>
                </>
              )}
            </article>
          );
        })}
      </div>
      {streams.length === 0 && <p class="empty">No streamer has reported yet.</p>}
    </section>
  );
}
