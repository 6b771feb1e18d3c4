/**
 * Stream rotation (issue 5): the usual practice side by side with our streamer, in the same run,
 * on the same sandbox, under the same forced rotations. The naive client (reconnect after the
 * socket closes, as most samples do) and one streamer process both subscribe the same topic while
 * the sandbox generates sequence-numbered events; every `intervalMs` the runner takes the next
 * step of a three-step cycle: rotate the token through the broker (rotate, lease grace, revoke the
 * old token: Genesys then closes the old token's sockets); close both sockets with
 * `v2.system.socket_closing`; and channel expiry, which forces nothing: the sandbox's short channel lifetime
 * (4 s against a 3 s step) makes both sides' channels expire on their own in that slot, as the
 * 24 h expiry does upstream (an immediate admin expiry would be an unannounced one, which Genesys
 * never does: `expires` is known when the channel is created).
 * Loss is exact, by sequence number: what the naive client saw, and what is in the Redis Stream.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENTS } from '../../support/system.js';
import { startStreamSystem, TOPIC } from '../../../services/streamer/test/support/stream-system.js';
import { startNaiveClient, type NaiveClient } from '../../../services/streamer/test/support/naive-client.js';
import type { BenchContext } from './context.js';
import { deleteSystemKeys, outputKey, readOutput, startStreamerChild, type StreamerChild } from './stream-rate.js';

export interface StreamRotationSettings {
  ratePerSecond: number;
  durationMs: number;
  /** Time between forced rotations. */
  intervalMs: number;
  /** The sandbox's channel lifetime: channels expire on their own after this. */
  channelLifetimeMs: number;
  /** The broker's wait between announcing a rotation and revoking the old token. */
  leaseGraceSeconds: number;
  /** The output count is final once it has not grown for this long. */
  settleMs: number;
}

type Trigger = 'socket_closing' | 'token_rotation' | 'channel_expiry';
// This order with a 4 s channel lifetime puts the naive client's channel expiry in the expiry slot
// (its channel from the socket_closing reconnect at +4 s expires at +8 s) and keeps the streamer's
// own expiry rollovers (1.5 s before `expires`) ~0.5 s clear of the forced closes.
const CYCLE: Trigger[] = ['token_rotation', 'socket_closing', 'channel_expiry'];

/** One side's losses, exact by sequence number. */
export interface SideLoss {
  lost: number;
  /** Runs of consecutive missing sequence numbers (one per loss episode). */
  holes: number;
  largestHole: number;
  /** The side's own rotations: the naive client's reconnects, our rollovers plus unplanned drops. */
  rotations: number;
  lostPerRotation: number;
}

export interface StreamRotationResult {
  settings: StreamRotationSettings;
  sent: number;
  forced: { atMs: number; trigger: Trigger }[];
  naive: SideLoss;
  streamer: SideLoss & {
    duplicated: number;
    rolloversByTrigger: Record<string, number>;
    unplannedDrops: number;
    gapsReported: number;
    gaps: { from: string; to: string; lastSequence?: number }[];
  };
  /** Lost events in the window after each forced rotation (until the next), by its trigger. */
  lostByForcedTrigger: Record<Trigger, { naive: number; streamer: number; count: number }>;
}

/** Runs both clients through the same rotations and counts what each lost. */
export async function runStreamRotation(ctx: BenchContext, settings: StreamRotationSettings): Promise<StreamRotationResult> {
  const sys = await startStreamSystem({ sandbox: { channelLifetimeMs: settings.channelLifetimeMs }, leaseGraceSeconds: settings.leaseGraceSeconds });
  ctx.prefixes.push(sys.prefix);
  let streamer: StreamerChild | undefined;
  let naive: NaiveClient | undefined;
  try {
    streamer = await startStreamerChild(ctx, sys, 'bench-streamer-rotation');
    naive = await startNaiveClient({ brokerUrl: sys.broker.url, idpToken: await sys.idp.clientCredentialsToken(CLIENTS.app.client_id), profile: 'sales', topic: TOPIC });
    const count = Math.round((settings.ratePerSecond * settings.durationMs) / 1000);
    const start = performance.now();
    let generating = true;
    const generation = sys.sandbox.admin.generateEvents({ topic: TOPIC, count, ratePerSecond: settings.ratePerSecond }).finally(() => { generating = false; });
    const forced: StreamRotationResult['forced'] = [];
    const maxRotations = Math.ceil(settings.durationMs / settings.intervalMs);
    for (let i = 0; i < maxRotations; i++) {
      // Sleep to the schedule (a broker rotation awaits its grace), never past the generation's end.
      const at = start + (i + 1) * settings.intervalMs;
      if (at > start + settings.durationMs - 1_000) break;
      await sleep(Math.max(0, at - performance.now()));
      if (!generating) break;
      const trigger = CYCLE[i % CYCLE.length]!;
      forced.push({ atMs: Math.round(performance.now() - start), trigger });
      if (trigger === 'socket_closing') {
        for (const id of [await streamer.channelId(), naive.channelId]) {
          // The socket may be between channels right now (an expiry rollover); then it is skipped.
          try { if (id) sys.sandbox.admin.closeSocket(id, { notice: true }); } catch { /* rolled over meanwhile */ }
        }
      } else if (trigger === 'token_rotation') {
        await sys.revokeViaBroker();
      }
    }
    const gen = await generation;
    const range = { first: gen.firstSequence, last: gen.lastSequence };
    const seen = new Map<number, number>();
    let lastId = '0-0';
    let lastProgress = performance.now();
    const deadline = performance.now() + settings.settleMs * 3;
    for (;;) {
      const size = seen.size;
      lastId = await readOutput(sys.redis, outputKey(sys), lastId, (e) => { seen.set(e.sequence, (seen.get(e.sequence) ?? 0) + 1); });
      if (seen.size > size) lastProgress = performance.now();
      if (seen.size >= gen.sent || performance.now() - lastProgress > settings.settleMs || performance.now() > deadline) break;
      await sleep(200);
    }
    naive.stop();
    const naiveMissing = missingIn(range, (s) => naive!.seen.has(s));
    const oursMissing = missingIn(range, (s) => seen.has(s));
    const rolled = (await sys.lifecycle(['stream.rolled_over'])).map((e) => (e.data as { trigger: string }).trigger);
    const rolloversByTrigger: Record<string, number> = {};
    for (const r of rolled) rolloversByTrigger[r] = (rolloversByTrigger[r] ?? 0) + 1;
    const unplannedDrops = (await sys.lifecycle(['stream.dropped'])).filter((e) => (e.data as { planned?: boolean }).planned === false).length;
    const gaps = (await sys.lifecycle(['stream.gap'])).map((e) => {
      const d = e.data as { from: string; to: string; lastSequence?: number };
      return { from: d.from, to: d.to, ...(d.lastSequence !== undefined ? { lastSequence: d.lastSequence } : {}) };
    });
    const msOf = (seq: number) => ((seq - range.first) * 1000) / settings.ratePerSecond;
    return {
      settings,
      sent: gen.sent,
      forced,
      naive: side(naiveMissing, naive.reconnects),
      streamer: {
        ...side(oursMissing, rolled.length + unplannedDrops),
        duplicated: [...seen.values()].filter((c) => c > 1).length,
        rolloversByTrigger, unplannedDrops, gapsReported: gaps.length, gaps,
      },
      lostByForcedTrigger: byWindow(forced, msOf, naiveMissing, oursMissing),
    };
  } finally {
    naive?.stop();
    await streamer?.stop();
    await deleteSystemKeys(sys).catch(() => undefined);
    await sys.close();
  }
}

/** Sequence numbers of `range` that `has` does not hold, in order. */
function missingIn(range: { first: number; last: number }, has: (s: number) => boolean): number[] {
  const out: number[] = [];
  for (let s = range.first; s <= range.last; s++) if (!has(s)) out.push(s);
  return out;
}

function side(missing: number[], rotations: number): SideLoss {
  let holes = 0;
  let run = 0;
  let largestHole = 0;
  missing.forEach((s, i) => {
    run = i > 0 && missing[i - 1] === s - 1 ? run + 1 : 1;
    if (run === 1) holes += 1;
    largestHole = Math.max(largestHole, run);
  });
  return { lost: missing.length, holes, largestHole, rotations, lostPerRotation: rotations ? +(missing.length / rotations).toFixed(1) : 0 };
}

/**
 * Charges each missing event to the forced rotation whose window (until the next one) holds its
 * nominal send time (the sandbox paces events at a fixed rate from the start). Losses before the
 * first forced rotation (a natural channel expiry) are not charged to any trigger.
 */
function byWindow(forced: StreamRotationResult['forced'], msOf: (seq: number) => number, naive: number[], ours: number[]): StreamRotationResult['lostByForcedTrigger'] {
  const out: StreamRotationResult['lostByForcedTrigger'] = {
    socket_closing: { naive: 0, streamer: 0, count: 0 },
    token_rotation: { naive: 0, streamer: 0, count: 0 },
    channel_expiry: { naive: 0, streamer: 0, count: 0 },
  };
  for (const f of forced) out[f.trigger].count += 1;
  const charge = (seqs: number[], key: 'naive' | 'streamer') => {
    for (const s of seqs) {
      const t = msOf(s);
      let owner: Trigger | undefined;
      for (const f of forced) if (f.atMs <= t) owner = f.trigger;
      if (owner) out[owner][key] += 1;
    }
  };
  charge(naive, 'naive');
  charge(ours, 'streamer');
  return out;
}

/** The stream-rotation table. */
export function formatStreamRotation(r: StreamRotationResult): string {
  const s = r.settings;
  const w = [26, 8, 6, 6, 9, 10, 10];
  const row = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]!) : String(c).padStart(w[i]!))).join('  ');
  const lines = [
    `stream rotation: ${s.ratePerSecond} ev/s for ${s.durationMs / 1000} s, a forced rotation every ${s.intervalMs / 1000} s (${r.forced.length}, cycling token rotation via the broker / socket_closing / channel expiry after ${s.channelLifetimeMs / 1000} s)`,
    row(['side', 'sent', 'lost', 'holes', 'max hole', 'rotations', 'lost/rot.']),
    row(['naive reconnect-on-close', r.sent, r.naive.lost, r.naive.holes, r.naive.largestHole, r.naive.rotations, r.naive.lostPerRotation]),
    row(['gtb streamer', r.sent, r.streamer.lost, r.streamer.holes, r.streamer.largestHole, r.streamer.rotations, r.streamer.lostPerRotation]),
    `streamer: duplicates ${r.streamer.duplicated}, gaps reported ${r.streamer.gapsReported}, unplanned drops ${r.streamer.unplannedDrops}, rollovers ${JSON.stringify(r.streamer.rolloversByTrigger)}`,
  ];
  for (const [trigger, v] of Object.entries(r.lostByForcedTrigger)) {
    lines.push(`after ${trigger} (${v.count}×): naive lost ${v.naive} (${v.count ? (v.naive / v.count).toFixed(1) : 0} each), streamer lost ${v.streamer}`);
  }
  return lines.join('\n');
}

/** The pass/fail entries of this scenario. */
export function streamRotationChecks(r: StreamRotationResult): { name: string; target: string; value: number | string; pass: boolean }[] {
  return [
    { name: 'stream rotation: streamer events lost', target: '0', value: r.streamer.lost, pass: r.streamer.lost === 0 },
    { name: 'stream rotation: streamer duplicates', target: '0', value: r.streamer.duplicated, pass: r.streamer.duplicated === 0 },
  ];
}
