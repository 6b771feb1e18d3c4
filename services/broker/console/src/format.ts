/** "4 m 05 s", "1 h 02 m", "12 s"; negative durations read "0 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} m`;
}

/** Local wall-clock time of an instant. */
export const clock = (t: string | number): string => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** "12 s ago" for a past instant. */
export const ago = (t: string | number, now: number): string => `${duration(now - new Date(t).getTime())} ago`;
