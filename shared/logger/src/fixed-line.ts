import { pino, type Logger, type Level } from 'pino';
import { SECRET_KEYS, isRedactingFormatter } from './logger.js';

/** The values a fixed-shape line takes: flat scalars (anything else goes through pino itself). */
export type LineValue = string | number | boolean | undefined;

/**
 * Writes one line of a fixed shape: `write(values, msg)` logs what `logger[level](values, msg)`
 * logs, byte for byte, when `values` holds the compiled keys in the compiled order.
 */
export type FixedLine<K extends string> = (values: { readonly [key in K]: LineValue }, msg: string) => void;

// pino.symbols: pino's documented handles on a logger's state, "for integration purposes".
const symbols = pino.symbols as unknown as Record<string, symbol>;
const symbol = (name: string): symbol => {
  const found = symbols[name];
  if (typeof found !== 'symbol') throw new Error(`pino.symbols.${name} is missing`);
  return found;
};
const lsCacheSym = symbol('lsCacheSym');
const timeSym = symbol('timeSym');
const chindingsSym = symbol('chindingsSym');
const streamSym = symbol('streamSym');
const endSym = symbol('endSym');
const messageKeySym = symbol('messageKeySym');
const mixinSym = symbol('mixinSym');
const nestedKeySym = symbol('nestedKeySym');
const msgPrefixSym = symbol('msgPrefixSym');
const serializersSym = symbol('serializersSym');
const stringifiersSym = symbol('stringifiersSym');
const hooksSym = symbol('hooksSym');
const needsMetadataGsym = symbol('needsMetadataGsym');
const formattersSym = symbol('formattersSym');

type Internals = Record<symbol, unknown>;

/**
 * pino's string quoting (lib/tools.js `asString`, pino 10, MIT), copied so that the text stays the
 * same: before Node 25, strings up to 100 characters without control characters are quoted by
 * hand, escaping only `"` and `\` (a lone surrogate stays as it is, where JSON.stringify escapes it).
 */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
function pinoQuote(str: string): string {
  if (NODE_MAJOR >= 25 || str.length > 100) return JSON.stringify(str);
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (let i = 0; i < str.length && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += str.slice(last, i) + '\\';
      last = i;
      found = true;
    }
  }
  result = found ? result + str.slice(last) : str;
  return point < 32 ? JSON.stringify(str) : '"' + result + '"';
}

/**
 * A line writer for a log line whose keys are always the same (the hit path's audit and request
 * lines, two a request at `info`). It builds the same text pino's `_asJson` builds for this logger
 * (`{"level":…` and the time from pino's own caches, the logger's bindings, then `,"key":value` per
 * defined value, the message and pino's line end) and hands it to the logger's stream, skipping what
 * a generic call costs: the log formatter's redaction walk over an object whose keys are known not to
 * be secret (checked here, once), pino's per-key serializer and stringifier lookups and its
 * string escaping checks. Written here because pino offers no precompiled line: pino's
 * `_asJson` and the redaction were ~10 % of the broker's CPU at `info` in the benchmark's profile.
 *
 * The format cannot drift silently: shared/logger/test/fixed-line.test.ts compares its output with
 * pino's for the same logger, bindings and values. Where the logger is not a plain one (a mixin,
 * hooks, a nested key, a message prefix, serializers or stringifiers for these keys, a stream that
 * wants metadata, i.e. pino.multistream), or a value is not a flat scalar, the call goes to pino.
 */
export function fixedLine<K extends string>(logger: Logger, level: Level, keys: readonly K[]): FixedLine<K> {
  for (const key of keys) {
    if (SECRET_KEYS.has(key)) throw new Error(`fixedLine: "${key}" is a secret key; log it through pino, which redacts it`);
    if (!/^[A-Za-z0-9_]+$/.test(key)) throw new Error(`fixedLine: key "${key}" needs escaping`);
  }
  const internals = logger as unknown as Internals;
  const slow: FixedLine<K> = (values, msg) => (logger[level] as (obj: object, msg: string) => void)(values, msg);
  const serializers = internals[serializersSym] as Record<string, unknown>;
  const stringifiers = internals[stringifiersSym] as Record<string | symbol, unknown>;
  const hooks = internals[hooksSym] as { streamWrite?: unknown };
  const plain = typeof internals[lsCacheSym] === 'object' && typeof internals[timeSym] === 'function' && typeof internals[chindingsSym] === 'string'
    && typeof logger.levels?.values?.[level] === 'number' && !internals[mixinSym] && !internals[nestedKeySym] && !internals[msgPrefixSym] && !hooks?.streamWrite
    && internals[messageKeySym] === 'msg' && isRedactingFormatter((internals[formattersSym] as { log?: unknown } | undefined)?.log)
    && keys.every((k) => !serializers[k] && !stringifiers[k]) && Object.getOwnPropertySymbols(stringifiers).length === 0;
  if (!plain) return slow;
  const prefixes = keys.map((k) => `,"${k}":`);
  const num = logger.levels.values[level]!;
  if (typeof (internals[lsCacheSym] as Record<number, unknown>)[num] !== 'string') return slow;
  return (values, msg) => {
    if (!logger.isLevelEnabled(level)) return;
    const stream = internals[streamSym] as { write(s: string): void; [needs: symbol]: unknown };
    if (stream[needsMetadataGsym] === true) return slow(values, msg);
    let line = (internals[lsCacheSym] as Record<number, string>)[num]! + (internals[timeSym] as () => string)() + (internals[chindingsSym] as string);
    for (let i = 0; i < keys.length; i++) {
      const value = values[keys[i]!];
      switch (typeof value) {
        case 'undefined':
          continue;
        case 'string':
          line += prefixes[i]! + pinoQuote(value);
          break;
        case 'number':
          line += prefixes[i]! + (Number.isFinite(value) ? String(value) : 'null');
          break;
        case 'boolean':
          line += prefixes[i]! + (value ? 'true' : 'false');
          break;
        default:
          return slow(values, msg);
      }
    }
    stream.write(line + ',"msg":' + pinoQuote(msg) + (internals[endSym] as string));
  };
}
