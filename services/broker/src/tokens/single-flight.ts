/**
 * Collapses concurrent calls with the same key into one: while a call is in flight, later callers
 * get its promise. Written here rather than imported because it is eight lines.
 */
export function createSingleFlight<T>() {
  const inFlight = new Map<string, Promise<T>>();
  return {
    run(key: string, fn: () => Promise<T>): Promise<T> {
      const running = inFlight.get(key);
      if (running) return running;
      const started = fn().finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
