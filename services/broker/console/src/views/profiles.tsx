import { Chart, TimeLeft } from '../components.js';
import { ago, clock, duration } from '../format.js';
import type { Profile } from '../types.js';

export function ProfilesView(props: { profiles: Profile[] | undefined; now: number; onRotate: (p: Profile) => void; onRevoke: (p: Profile) => void }) {
  if (!props.profiles) return <p>Loading profiles…</p>;
  return (
    <section aria-labelledby="profiles-title">
      <h2 id="profiles-title">Profiles</h2>
      <p class="lede">Each profile is one Genesys OAuth client in one region. The broker holds its current token; these are its fingerprints and times, never the token.</p>
      <div class="cards">
        {props.profiles.map((p) => <ProfileCard key={p.name} p={p} now={props.now} onRotate={props.onRotate} onRevoke={props.onRevoke} />)}
      </div>
    </section>
  );
}

function ProfileCard({ p, now, onRotate, onRevoke }: { p: Profile; now: number; onRotate: (p: Profile) => void; onRevoke: (p: Profile) => void }) {
  const c = p.cache;
  const hourXs = p.mints.per_hour_24h.map((_, i) => Math.floor(now / 1000) - (23 - i) * 3600);
  const left = c.expiresAt ? c.expiresAt - now : 0;
  return (
    <article class="card" data-testid={`profile-${p.name}`} aria-labelledby={`profile-${p.name}-title`}>
      <header class="card-head">
        <h3 id={`profile-${p.name}-title`}>{p.name}</h3>
        <span class="muted">{p.region ?? 'custom hosts'}</span>
        <span class={`badge circuit-${c.circuit}`} title="circuit breaker of this replica">circuit {c.circuit}</span>
      </header>
      <dl class="facts">
        <dt>Token fingerprint</dt><dd><code data-testid="fingerprint">{c.fingerprint ?? 'none cached'}</code></dd>
        <dt>Time left</dt>
        <dd data-testid="time-left">
          {c.expiresAt && c.issuedAt
            ? <TimeLeft label={`time left on the ${p.name} token`} left={left} total={c.expiresAt - c.issuedAt} text={`${duration(left)} (expires ${clock(c.expiresAt)})`} />
            : '—'}
        </dd>
        <dt>Next planned refresh</dt><dd>{c.refreshAt ? (c.refreshAt > now ? `in ${duration(c.refreshAt - now)} (${clock(c.refreshAt)})` : 'due now') : '—'}{c.refreshing ? ' — refreshing' : ''}</dd>
        <dt>Last mint</dt>
        <dd>{p.mints.last ? `${ago(p.mints.last.at, now)} by ${p.mints.last.instance}, ${p.mints.last.ms} ms${p.mints.last.outcome === 'ok' ? '' : ` (${p.mints.last.outcome})`}` : 'none in 24 h'}</dd>
        <dt>Cooldown</dt><dd>{c.cooldownMs > 0 ? <span class="warn">throttled until {clock(now + c.cooldownMs)}</span> : 'none'}</dd>
        <dt>Live leases</dt><dd data-testid="live-leases">{p.live_leases}</dd>
        {!c.redisAvailable && <><dt>Redis</dt><dd class="warn">unreachable: this replica's memory only</dd></>}
      </dl>
      <figure>
        <figcaption>Mints per hour, last 24 h ({p.mints.per_hour_24h.reduce((a, b) => a + b, 0)} in all)</figcaption>
        <Chart label={`mints per hour of ${p.name}`} xs={hourXs} ys={p.mints.per_hour_24h} bars height={90} />
      </figure>
      <div class="actions">
        <button type="button" class="primary" onClick={() => onRotate(p)}>Rotate token…</button>
        <button type="button" class="danger" onClick={() => onRevoke(p)}>Revoke token…</button>
      </div>
    </article>
  );
}
