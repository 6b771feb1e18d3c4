import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import { turnDestination, type TurnDestination } from './turn-destination.js';

/**
 * Keys whose values never reach a log line: tokens, secrets, connect URIs, credentials headers.
 * Checked at the first three levels of what a log call passes (`{ token }`, `{ profile: { clientSecret } }`,
 * `{ req: { headers: { authorization } } }`), and in child bindings.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'access_token', 'accessToken', 'token', 'subject_token', 'id_token', 'refresh_token',
  'client_secret', 'clientSecret', 'secret', 'password', 'encryptionKeys',
  'connectUri', 'connect_uri',
  'authorization', 'Authorization', 'cookie', 'x-sandbox-key',
]);

const CENSOR = '[redacted]';
const MAX_DEPTH = 3;

/**
 * `value` with every SECRET_KEYS entry replaced by `[redacted]`, down to MAX_DEPTH levels of plain
 * objects; the caller's objects are never changed (a level is copied only when it holds a secret).
 *
 * Written here instead of pino's `redact` option: pino 10's redaction (@pinojs/redact 0.4) parses
 * every path again on every call, and runs its wildcard paths once per top-level key, which made it
 * 15 % of the broker's CPU on the hit path at `info` (two lines a request). This walk is a Set
 * lookup per key.
 */
export function redactSecrets<T extends object>(value: T, depth = 1): T {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    let next = v;
    if (SECRET_KEYS.has(key)) {
      if (v !== undefined && v !== null) next = CENSOR;
    } else if (depth < MAX_DEPTH && isPlainObject(v)) {
      next = redactSecrets(v, depth + 1);
    }
    if (next !== v) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = next;
    }
  }
  return (copy ?? value) as T;
}

/** Plain data objects only: Errors, URLs, Buffers and the like are left to pino's serializers. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export interface LoggerOptions {
  /** The process or component name, e.g. `broker`. */
  name: string;
  level?: LevelWithSilent;
  /**
   * Where lines go. When omitted: stdout, the lines of one event-loop turn in one write at the turn's
   * end (turn-destination.ts; one destination per process). Tests pass a stream to read what was logged.
   */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{ instance }`. */
  base?: Record<string, unknown>;
}

/**
 * pino's `isoTime` (`,"time":"<ISO-8601>"`), the same text, built once per millisecond: at two
 * lines per request the broker formats the same millisecond many times under load.
 */
function isoTimeOncePerMs(): () => string {
  let lastMs = Number.NaN;
  let last = '';
  return () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      last = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return last;
  };
}

let stdout: TurnDestination | undefined;

/** The log formatter of every logger createLogger makes. */
const redactingFormatter = (object: Record<string, unknown>) => redactSecrets(object);

/** True for createLogger's log formatter (fixed-line.ts writes lines only for loggers that use it). */
export function isRedactingFormatter(formatter: unknown): boolean {
  return formatter === redactingFormatter;
}

/** A pino JSON logger with the project's redaction rules. */
export function createLogger(options: LoggerOptions): Logger {
  const { name, level = 'info', destination, base = {} } = options;
  const logger = pino(
    {
      name,
      level,
      base: redactSecrets({ pid: process.pid, ...base }),
      timestamp: isoTimeOncePerMs(),
      formatters: {
        level: (label) => ({ level: label }),
        log: redactingFormatter,
      },
    },
    destination ?? (stdout ??= turnDestination({ fd: 1 })),
  );
  // pino applies a `bindings` formatter to the root only, so children's bindings are redacted here.
  // Every child inherits this method from the root (pino children are Object.create(parent)).
  const pinoChild = logger.child;
  logger.child = function child(this: Logger, bindings: Record<string, unknown>, childOptions?: Parameters<Logger['child']>[1]) {
    return pinoChild.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return logger;
}

export type { Logger };
