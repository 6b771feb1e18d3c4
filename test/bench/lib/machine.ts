import { arch, cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';

/** What the figures were measured on: they only compare within one run on one machine. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  arch: string;
  totalMemMb: number;
  freeMemMb: number;
  loadavg: number[];
}

/** A snapshot of the machine now. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${release()}`,
    arch: arch(),
    totalMemMb: Math.round(totalmem() / 2 ** 20),
    freeMemMb: Math.round(freemem() / 2 ** 20),
    loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
