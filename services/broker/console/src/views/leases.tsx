import { TimeLeft } from '../components.js';
import { clock, duration } from '../format.js';
import type { Lease } from '../types.js';

export function LeasesView(props: { leases: Lease[] | undefined; now: number; onRelease: (l: Lease) => void }) {
  if (!props.leases) return <p>Loading leases…</p>;
  return (
    <section aria-labelledby="leases-title">
      <h2 id="leases-title">Leases</h2>
      <p class="lede">Long-lived consumers (the streamer) lease a profile's token and renew at half the lease. A released holder takes a new lease at its next renewal.</p>
      {props.leases.length === 0 ? <p class="empty">No live leases.</p> : (
        <div class="table-wrap" tabIndex={0} aria-label="leases table">
          <table>
            <thead><tr><th scope="col">Holder</th><th scope="col">Profile</th><th scope="col">Owner</th><th scope="col">Granted</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {props.leases.map((l) => {
                const expires = Date.parse(l.lease_expires_at);
                return (
                  <tr key={l.lease_id} data-testid={`lease-${l.lease_id}`}>
                    <th scope="row">{l.holder}</th>
                    <td>{l.profile}</td>
                    <td class="wrap">{l.owner.split('|').pop()}<span class="muted"> at {new URL(l.owner.split('|')[0] ?? '', location.href).host}</span></td>
                    <td>{clock(l.granted_at)}</td>
                    <td><TimeLeft label={`lease of ${l.holder} expires`} left={expires - props.now} total={Math.max(1, expires - Date.parse(l.granted_at))} text={`in ${duration(expires - props.now)}`} /></td>
                    <td><button type="button" class="secondary" onClick={() => props.onRelease(l)} aria-label={`Release the lease of ${l.holder} on ${l.profile}`}>Release…</button></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
