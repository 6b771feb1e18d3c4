import { GtbError } from '@gtb/errors';
import type { Since } from '@gtb/events';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since`: a lifecycle stream id (`1700000000000-0`, exclusive), `0` for everything, an ISO
 * time, or an age like `30s`, `15m`, `2h`, `1d` (relative to `now`).
 */
export function parseSince(value: string, now: number): Since {
  const v = value.trim();
  if (v === '0' || v === '-') return '0';
  if (/^\d{1,20}-\d{1,20}$/.test(v)) return v;
  const age = /^(\d{1,9})([smhd])$/.exec(v);
  if (age) return new Date(now - Number(age[1]) * UNITS[age[2]!]!);
  // Only full dates: Date.parse accepts too much (e.g. "1") to take anything else.
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return new Date(ms);
  }
  throw new GtbError('ERR_USAGE', '--since must be a stream id (1700000000000-0), 0, an ISO time, or an age like 15m, 2h, 1d');
}
