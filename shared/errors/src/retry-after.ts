/**
 * `Retry-After` in whole seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent, empty or unreadable. `nowMs` makes the date form testable. One copy for every client of
 * this repository (Genesys' answers in `@gtb/genesys`, the broker's in `@gtb/client`).
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date always names its month; Date.parse alone would read "-5" as the year -5.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}
