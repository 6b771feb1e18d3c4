import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

/**
 * Paths pino replaces with `[redacted]`. Wildcards cover one level of nesting, which is how our
 * log calls pass objects (`{ req }`, `{ token }`, `{ profile: {...} }`).
 */
export const REDACT_PATHS = [
  'access_token', '*.access_token',
  'accessToken', '*.accessToken',
  'token', '*.token',
  'subject_token', '*.subject_token',
  'id_token', '*.id_token',
  'refresh_token', '*.refresh_token',
  'client_secret', '*.client_secret',
  'clientSecret', '*.clientSecret',
  'secret', '*.secret',
  'password', '*.password',
  'connectUri', '*.connectUri',
  'connect_uri', '*.connect_uri',
  'authorization', '*.authorization',
  'Authorization', '*.Authorization',
  'headers.authorization', '*.headers.authorization',
  'headers.cookie', '*.headers.cookie',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-sandbox-key"]',
  'encryptionKeys', '*.encryptionKeys',
];

export interface LoggerOptions {
  /** The process or component name, e.g. `broker`. */
  name: string;
  level?: LevelWithSilent;
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{ instance }`. */
  base?: Record<string, unknown>;
}

/** A pino JSON logger with the project's redaction rules. */
export function createLogger(options: LoggerOptions): Logger {
  const { name, level = 'info', destination, base = {} } = options;
  return pino(
    {
      name,
      level,
      base: { pid: process.pid, ...base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
