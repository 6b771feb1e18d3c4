import { pino, type DestinationStream } from 'pino';

export interface TurnDestinationOptions {
  /** The file descriptor written to (1, stdout, by default). */
  fd?: number;
  /** Characters gathered before they are written at once, without waiting for the turn's end (64 Ki by default). */
  maxPending?: number;
}

export interface TurnDestination extends DestinationStream {
  /** Writes whatever is gathered now, synchronously (pino calls it before a `fatal` line returns; also run on exit). */
  flushSync(): void;
}

/**
 * A pino destination that gathers the lines written during one turn of the event loop and writes
 * them with one system call when the turn ends (`setImmediate`), synchronously, through pino's own
 * sonic-boom in sync mode (which retries EAGAIN on a non-blocking pipe and finishes partial writes).
 *
 * Why: at `info` the broker writes two lines per request (the policy's audit line and the request
 * line). pino's default destination (sonic-boom, asynchronous) measures every line's byte length and
 * hands writes to libuv's thread pool; a synchronous destination makes one `write(2)` per line.
 * Under load one turn answers many requests, so one write carries all their lines. Written here
 * because sonic-boom has no "end of the turn" flush (its `minLength` waits for a size, its
 * `periodicFlush` for a timer).
 *
 * What it risks: the lines of the current turn (at most `maxPending` characters) if the process is
 * killed with SIGKILL before the turn ends, the same window as pino's asynchronous mode. A normal
 * exit (`process.exit`, an uncaught exception) writes them first (an `exit` listener), and a `fatal`
 * line is written before pino returns.
 */
export function turnDestination(options: TurnDestinationOptions = {}): TurnDestination {
  const { fd = 1, maxPending = 65_536 } = options;
  const sink = pino.destination({ dest: fd, sync: true });
  let pending = '';
  let scheduled = false;

  const flushSync = () => {
    if (pending.length === 0) return;
    const data = pending;
    pending = '';
    sink.write(data);
  };
  const atTurnEnd = () => {
    scheduled = false;
    flushSync();
  };
  process.on('exit', flushSync);

  return {
    write(line: string) {
      pending += line;
      if (pending.length >= maxPending) flushSync();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(atTurnEnd);
      }
    },
    flushSync,
  };
}
