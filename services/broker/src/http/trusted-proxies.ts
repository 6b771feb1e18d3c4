import { isIP } from 'node:net';
import { z } from 'zod';

/** The names Express's `trust proxy` (proxy-addr) accepts for well-known ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/**
 * The proxies whose `X-Forwarded-For` the broker believes: addresses or CIDRs (or proxy-addr's
 * `loopback`, `linklocal`, `uniquelocal`). A request from any other address is keyed by its own
 * socket address, whatever headers it sends. A hop count or `true` is refused: with no proxy in
 * front, either would let every caller choose the address its rate limit is counted under.
 */
export const trustedProxiesSchema = z.preprocess(
  (value) => (value === false ? [] : value),
  z.array(z.string().refine(isAddressOrCidr, 'must be an IP address, a CIDR (10.0.0.0/8) or loopback/linklocal/uniquelocal'), {
    error: 'must list the trusted proxies\' addresses or CIDRs (a hop count or true would trust any caller\'s X-Forwarded-For)',
  }).max(100),
).default([]);
