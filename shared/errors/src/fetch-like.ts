/**
 * The part of `fetch` the project's HTTP clients call (a URL string and the request options), so
 * that a caller can inject a proxy, a custom CA, mTLS or a test double. `globalThis.fetch` is one.
 * It lives here because every package that takes one (@gtb/genesys, @gtb/client, the services)
 * already depends on this package, and @gtb/client must stay free of the server-side ones.
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
