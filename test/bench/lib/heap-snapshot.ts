/**
 * Reads a V8 heap snapshot (what `--heapsnapshot-signal` writes) into totals: the live heap (a
 * snapshot holds only what survived the full collection it starts with) by node kind and
 * constructor, so that two snapshots of one process can be compared for growth.
 */
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapSummary {
  /** Sum of every node's self size, MiB. */
  liveMiB: number;
  nodes: number;
  /** `kind` or `object:<constructor>` → bytes. */
  byKind: Record<string, number>;
}

export async function summarizeHeapSnapshot(file: string): Promise<HeapSummary> {
  const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const byKind: Record<string, number> = {};
  let total = 0;
  let count = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const kind = type === 'object' || type === 'closure' ? `${type}:${snap.strings[snap.nodes[i + iName]!]}` : type;
    const size = snap.nodes[i + iSize]!;
    byKind[kind] = (byKind[kind] ?? 0) + size;
    total += size;
    count++;
  }
  return { liveMiB: Math.round((total / 2 ** 20) * 100) / 100, nodes: count, byKind };
}

/** The kinds that grew most from `a` to `b`, in KiB. */
export function heapGrowth(a: HeapSummary, b: HeapSummary, top = 8): { kind: string; kib: number }[] {
  const kinds = new Set([...Object.keys(a.byKind), ...Object.keys(b.byKind)]);
  return [...kinds].map((kind) => ({ kind, kib: Math.round(((b.byKind[kind] ?? 0) - (a.byKind[kind] ?? 0)) / 1024) }))
    .sort((x, y) => y.kib - x.kib).slice(0, top);
}
