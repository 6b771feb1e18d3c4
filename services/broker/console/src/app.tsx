import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, createApi, followFeed, type FeedItem } from './api.js';
import type { ConsoleConfig, Session } from './auth.js';
import { Confirm } from './components.js';
import { duration } from './format.js';
import type { Lease, Profile, StreamsAnswer } from './types.js';
import { EventRow, EventsView } from './views/events.js';
import { LeasesView } from './views/leases.js';
import { ProfilesView } from './views/profiles.js';
import { StreamsView, type RateHistory } from './views/streams.js';

const VIEWS = [
  { id: 'profiles', label: 'Profiles' },
  { id: 'leases', label: 'Leases' },
  { id: 'streams', label: 'Streams' },
  { id: 'events', label: 'Events' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

const viewOf = (hash: string): ViewId => (VIEWS.find((v) => `#/${v.id}` === hash)?.id ?? 'profiles');
const POLL_MS = 2000;

interface Pending { title: string; body: preact.ComponentChildren; confirmLabel: string; danger: boolean; subject: string; run: () => Promise<string> }
interface Activity { title: string; subject: string; since: number; outcome: string | undefined; failed: boolean }

/** The signed-in console: the four views, live, and the three actions with confirmation. */
/** `onSignOut(true)`: the operator asked (the IdP session ends too); without it, the token ran out or was refused. */
export function App(props: { config: ConsoleConfig; session: Session; onSignOut: (asked?: boolean) => void }) {
  const tokenRef = useRef<string | undefined>(props.session.accessToken);
  const api = useMemo(() => createApi(() => tokenRef.current), []);
  const [view, setView] = useState<ViewId>(viewOf(location.hash));
  const [now, setNow] = useState(Date.now());
  const [profiles, setProfiles] = useState<Profile[]>();
  const [leases, setLeases] = useState<Lease[]>();
  const [streams, setStreams] = useState<StreamsAnswer>();
  const [rates, setRates] = useState<RateHistory>({});
  const [events, setEvents] = useState<FeedItem[]>([]);
  const [live, setLive] = useState(false);
  const [refusal, setRefusal] = useState<ApiError>();
  const [error, setError] = useState<string>();
  const [pending, setPending] = useState<Pending>();
  const [activity, setActivity] = useState<Activity>();

  useEffect(() => {
    const onHash = () => setView(viewOf(location.hash));
    addEventListener('hashchange', onHash);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => { removeEventListener('hashchange', onHash); clearInterval(tick); };
  }, []);

  const refresh = useCallback(async () => {
    try {
      const [p, l, s] = await Promise.all([
        api<{ profiles: Profile[] }>('/v1/profiles'), api<{ leases: Lease[] }>('/v1/leases'), api<StreamsAnswer>('/v1/streams'),
      ]);
      setProfiles(p.profiles);
      setLeases(l.leases.sort((a, b) => a.holder.localeCompare(b.holder)));
      setStreams(s);
      const t = Math.floor(Date.now() / 1000);
      setRates((prev) => {
        const next: RateHistory = {};
        for (const st of s.streams) {
          const eps = st.replicas.filter((r) => r.alive && r.owner).reduce((a, r) => a + r.events_per_second, 0);
          const h = prev[st.name] ?? { xs: [], ys: [] };
          next[st.name] = { xs: [...h.xs, t].slice(-90), ys: [...h.ys, Math.round(eps * 10) / 10].slice(-90) };
        }
        return next;
      });
      setError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setRefusal(err);
      else if (err instanceof ApiError && err.status === 401) props.onSignOut(false);
      else setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, []);

  // The feed: the last few hundred events, then live from the last one's id.
  useEffect(() => {
    const ctrl = new AbortController();
    void (async () => {
      try {
        const first = await api<{ events: FeedItem[] }>('/v1/events?count=300');
        setEvents(first.events);
        followFeed(() => tokenRef.current, first.events[first.events.length - 1]?.id, (items) => {
          setEvents((prev) => [...prev, ...items].slice(-2000));
          void refresh();
        }, setLive, ctrl.signal);
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) setRefusal(err);
      }
    })();
    return () => ctrl.abort();
  }, []);

  // The IdP token ends: so does the console's access (nothing renews it silently).
  useEffect(() => {
    const t = setTimeout(() => props.onSignOut(false), Math.max(0, props.session.expiresAt - Date.now()));
    return () => clearTimeout(t);
  }, []);

  const signOut = () => { tokenRef.current = undefined; props.onSignOut(true); };

  const runPending = async () => {
    const p = pending!;
    setPending(undefined);
    const since = Date.now() - 1000;
    setActivity({ title: p.title, subject: p.subject, since, outcome: undefined, failed: false });
    try {
      const outcome = await p.run();
      setActivity({ title: p.title, subject: p.subject, since, outcome, failed: false });
    } catch (err) {
      setActivity({ title: p.title, subject: p.subject, since, outcome: (err as Error).message, failed: true });
    }
    void refresh();
  };

  const streamsOf = (profile: string) => streams?.streams.filter((s) => s.profile === profile).map((s) => s.name) ?? [];
  const onRotate = (p: Profile) => setPending({
    title: `Rotate the token of ${p.name}?`, confirmLabel: 'Rotate now', danger: false, subject: p.name,
    body: <>
      <p>The broker mints a new Genesys token for <strong>{p.name}</strong> now and publishes <code>token.rotated</code>. Callers get the new token from now on; the old one stays valid at Genesys until it expires.</p>
      <p>{p.live_leases} live lease{p.live_leases === 1 ? '' : 's'}: {p.live_leases ? 'their holders hear token.rotated and roll their channels over (make-before-break)' : 'no holder to notify'}.{streamsOf(p.name).length ? ` Streams ${streamsOf(p.name).join(', ')} roll over to a new channel.` : ''}</p>
    </>,
    run: async () => {
      const r = await api<{ fingerprint: string }>(`/v1/profiles/${encodeURIComponent(p.name)}/rotate`, { method: 'POST' });
      return `new fingerprint ${r.fingerprint}`;
    },
  });
  const onRevoke = (p: Profile) => setPending({
    title: `Revoke the token of ${p.name}?`, confirmLabel: 'Revoke', danger: true, subject: p.name,
    body: <>
      <p>The broker revokes the current token at Genesys and removes it from the cache (<code>token.revoked</code>). The next request mints a new one.</p>
      <p>{p.live_leases > 0
        ? `${p.live_leases} live lease${p.live_leases === 1 ? '' : 's'}: the broker first rotates (holders hear token.rotated and roll over), waits the grace period, then revokes only the previous token.`
        : 'No live lease: anyone still using this token gets 401 from Genesys until they fetch the new one.'}</p>
    </>,
    run: async () => { await api(`/v1/profiles/${encodeURIComponent(p.name)}/token`, { method: 'DELETE' }); return 'revoked'; },
  });
  const onRelease = (l: Lease) => setPending({
    title: `Release the lease of ${l.holder}?`, confirmLabel: 'Release', danger: true, subject: l.profile,
    body: <p>The lease on <strong>{l.profile}</strong> ends now (<code>lease.released</code>). Its holder's next renewal fails and it takes a new lease; its streams keep running on the token they have.</p>,
    run: async () => { await api(`/v1/leases/${l.lease_id}`, { method: 'DELETE' }); return 'released'; },
  });

  const resulting = activity ? events.filter((e) => Date.parse(e.event.time) >= activity.since && (e.event.subject === activity.subject || e.event.data['profile'] === activity.subject)).slice(-8) : [];

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <h1>Genesys token broker <span class="muted">operator console</span></h1>
        <nav aria-label="Views">
          <ul>{VIEWS.map((v) => <li key={v.id}><a href={`#/${v.id}`} aria-current={view === v.id ? 'page' : undefined}>{v.label}</a></li>)}</ul>
        </nav>
        <div class="who">
          <span>Signed in as <strong data-testid="who">{props.session.name}</strong> · session ends in {duration(props.session.expiresAt - now)}</span>
          <button type="button" class="secondary" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {refusal ? (
          <section class="refusal" role="alert" data-testid="refusal">
            <h2>Administrator rights required</h2>
            <p>You are signed in as <strong>{props.session.name}</strong>, but the broker refused: <code>{refusal.code ?? refusal.status}</code> — {refusal.message}.</p>
            <p>The console is for operators whom the broker's policy names as admins (a rule with <code>admin: true</code>, e.g. the role <code>gtb-admin</code>). Ask whoever runs the broker, or sign in as someone else.</p>
            <button type="button" class="primary" onClick={signOut}>Sign out</button>
          </section>
        ) : (
          <>
            {error && <p class="error" role="alert">Cannot reach the broker: {error}. Retrying every {POLL_MS / 1000} s.</p>}
            {activity && (
              <section class="activity" aria-live="polite" data-testid="activity">
                <h2>{activity.title.replace(/\?$/, '')}: {activity.outcome === undefined ? 'working…' : activity.failed ? `failed — ${activity.outcome}` : activity.outcome}</h2>
                {resulting.length > 0 ? <ol class="feed compact">{resulting.map((e) => <EventRow key={e.id} item={e} />)}</ol> : <p class="muted">Waiting for the resulting events…</p>}
                <button type="button" class="secondary" onClick={() => setActivity(undefined)}>Dismiss</button>
              </section>
            )}
            {view === 'profiles' && <ProfilesView profiles={profiles} now={now} onRotate={onRotate} onRevoke={onRevoke} />}
            {view === 'leases' && <LeasesView leases={leases} now={now} onRelease={onRelease} />}
            {view === 'streams' && <StreamsView streams={streams} rates={rates} now={now} />}
            {view === 'events' && <EventsView events={events} live={live} />}
          </>
        )}
      </main>
      {pending && (
        <Confirm title={pending.title} confirmLabel={pending.confirmLabel} danger={pending.danger} onConfirm={() => void runPending()} onCancel={() => setPending(undefined)}>
          {pending.body}
        </Confirm>
      )}
    </>
  );
}
