import { GtbError } from '@gtb/errors';

/** A fault to inject. `drop` acts once on the sockets open now; the others last until cleared (or `count` runs out). */
export type Fault =
  | { type: 'drop'; channelId?: string }
  | { type: 'stall'; channelId?: string }
  | { type: 'duplicate'; probability?: number; every?: number; channelId?: string }
  | { type: 'reorder'; window: number; channelId?: string }
  | { type: 'latency'; ms: number; route?: string }
  | { type: 'token-throttle'; count?: number; clientId?: string }
  | { type: 'error5xx'; status?: 500 | 502 | 503; route?: string; count?: number }
  | { type: 'api-throttle'; retryAfterSeconds: number; count?: number };

export type FaultType = Fault['type'];
type Stored<T extends FaultType> = Extract<Fault, { type: T }> & { id: number; remaining?: number };

/** Active faults, with the lookups each part of the sandbox needs. */
export class FaultRegistry {
  #nextId = 1;
  #faults: Stored<FaultType>[] = [];

  /** Validates and stores a fault; returns its id. */
  add(fault: Fault): number {
    validateFault(fault);
    const id = this.#nextId++;
    const count = 'count' in fault ? fault.count : undefined;
    this.#faults.push({ ...fault, id, ...(count === undefined ? {} : { remaining: count }) } as Stored<FaultType>);
    return id;
  }

  clear(): void {
    this.#faults = [];
  }

  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** The first active fault of a type that `match` accepts; consumes one use of a counted fault. */
  take<T extends FaultType>(type: T, match: (f: Stored<T>) => boolean = () => true): Stored<T> | undefined {
    const found = this.#faults.find((f): f is Stored<T> => f.type === type && match(f as Stored<T>));
    if (found && found.remaining !== undefined) {
      found.remaining -= 1;
      if (found.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== found);
    }
    return found;
  }

  /** Like `take` but never consumes (for faults that describe a state, such as `stall`). */
  peek<T extends FaultType>(type: T, match: (f: Stored<T>) => boolean = () => true): Stored<T> | undefined {
    return this.#faults.find((f): f is Stored<T> => f.type === type && match(f as Stored<T>));
  }
}

const TYPES: readonly FaultType[] = ['drop', 'stall', 'duplicate', 'reorder', 'latency', 'token-throttle', 'error5xx', 'api-throttle'];

/** Throws ERR_VALIDATION for a fault the sandbox cannot apply. */
export function validateFault(fault: unknown): asserts fault is Fault {
  const bad = (why: string): never => {
    throw new GtbError('ERR_VALIDATION', `invalid fault: ${why}`);
  };
  if (fault === null || typeof fault !== 'object') bad('expected an object');
  const f = fault as Record<string, unknown>;
  if (!TYPES.includes(f.type as FaultType)) bad(`type must be one of ${TYPES.join(', ')}`);
  const optStr = (k: string) => f[k] === undefined || typeof f[k] === 'string' || bad(`${k} must be a string`);
  const posInt = (k: string, required: boolean) =>
    (f[k] === undefined && !required) || (Number.isInteger(f[k]) && (f[k] as number) > 0) || bad(`${k} must be a positive integer`);
  optStr('channelId');
  optStr('route');
  optStr('clientId');
  posInt('count', false);
  switch (f.type) {
    case 'duplicate':
      if (f.every === undefined && f.probability === undefined) bad('duplicate needs probability or every');
      posInt('every', false);
      if (f.probability !== undefined && !(typeof f.probability === 'number' && f.probability >= 0 && f.probability <= 1)) bad('probability must be in 0..1');
      break;
    case 'reorder':
      posInt('window', true);
      if ((f.window as number) < 2) bad('window must be at least 2');
      break;
    case 'latency':
      if (!(typeof f.ms === 'number' && f.ms >= 0 && f.ms <= 120_000)) bad('ms must be a number in 0..120000');
      break;
    case 'error5xx':
      if (f.status !== undefined && ![500, 502, 503].includes(f.status as number)) bad('status must be 500, 502 or 503');
      break;
    case 'api-throttle':
      posInt('retryAfterSeconds', true);
      break;
    default:
      break;
  }
}
