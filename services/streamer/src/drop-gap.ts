import type { Connection } from './channel-connector.js';
import type { Gap, GapReporter } from './gap-reporter.js';
import type { StreamerMetrics } from './metrics.js';

export type OpenGap = Omit<Gap, 'to' | 'stream'>;

/**
 * The gap an unplanned drop opens when no other socket covers it: from the last frame on the
 * dropped socket to the first frame on the next socket that receives. At most one is open.
 */
export interface DropGap {
  open(conn: Connection, reason: string): void;
  /** A socket receives again: report the open gap, if any, ending at `at`. */
  close(at: number): void;
}

export function createDropGap(options: { stream: string; gaps: GapReporter; metrics: StreamerMetrics; now: () => number; initial?: OpenGap | undefined }): DropGap {
  const { stream, gaps, metrics, now } = options;
  let open: OpenGap | undefined = options.initial;
  return {
    open(conn, reason) {
      const { socket } = conn;
      open ??= {
        from: socket.lastFrameAt ?? socket.receivingAt ?? now(),
        ...(socket.lastSequence === undefined ? {} : { lastSequence: socket.lastSequence }),
        ...(socket.lastEventId === undefined ? {} : { lastEventId: socket.lastEventId }),
        reason: `socket dropped: ${reason}`.slice(0, 200),
      };
    },
    close(at) {
      if (!open) return;
      gaps.report({ stream, ...open, to: at }, 'drop');
      metrics.gaps.inc({ stream, cause: 'drop' });
      open = undefined;
    },
  };
}
