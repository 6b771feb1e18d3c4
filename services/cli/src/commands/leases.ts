import { GtbError } from '@gtb/errors';
import { onlyOptions } from '../args.js';
import { brokerClientFor } from '../broker-settings.js';
import type { CommandInput } from '../context.js';
import { jsonLine, line, table } from '../output.js';

/** `gtb leases`: who holds which profile's token (admin). */
export async function leasesCommand(input: CommandInput): Promise<number> {
  onlyOptions(input.args, 'leases', []);
  if (input.args.positionals.length > 1) throw new GtbError('ERR_USAGE', 'usage: gtb leases');
  const client = await brokerClientFor(input);
  const leases = await client.listLeases();
  if (input.json) {
    jsonLine(input, { leases: leases.map((l) => ({ lease_id: l.leaseId, profile: l.profile, holder: l.holder, lease_expires_at: new Date(l.leaseExpiresAt).toISOString(), renew_after: new Date(l.renewAfter).toISOString() })) });
    return 0;
  }
  if (leases.length === 0) {
    line(input, 'no live leases');
    return 0;
  }
  line(input, table([['LEASE', 'PROFILE', 'HOLDER', 'EXPIRES'], ...leases.map((l) => [l.leaseId, l.profile, l.holder, new Date(l.leaseExpiresAt).toISOString()])]));
  return 0;
}
