/**
 * CPU time and memory of a process on this machine, from /proc (Linux). CPU per request is what the
 * hit path's ratios can rest on when the machine is shared: a server's request rate drops when
 * another process takes its core, its CPU time per request barely moves.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks a second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** User + system CPU time of every thread of `pid` so far, in ms (10 ms resolution); undefined when unreadable. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** Resident set size (`VmRSS`) of `pid` in MiB; undefined when unreadable. */
export function processRssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}
