import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchLike } from '@gtb/errors';

/**
 * A fetch that trusts only `ca` (PEM, one or more certificates; it replaces the system roots, as
 * `tls.connect({ ca })` does), for a broker whose certificate comes from a private CA. Node's
 * built-in fetch takes no CA option; undici's own fetch and Agent (one version, so they fit
 * together) do. One Agent per CA, so that its pooled connections are reused.
 */
export function fetchTrusting(ca: string): FetchLike {
  const dispatcher = new Agent({ connect: { ca } });
  return async (input, init) => {
    // undici's Response is the class Node's fetch returns too; only its TypeScript type is a copy.
    const res = await undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher });
    return res as unknown as Response;
  };
}
