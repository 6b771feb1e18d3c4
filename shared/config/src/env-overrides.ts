/**
 * Environment overrides: `<PREFIX>REDIS__URL=redis://…` sets `redis.url`. `__` separates levels,
 * single `_` words become camelCase, a numeric segment indexes an array. Values that parse as
 * JSON (numbers, booleans, arrays, objects) are taken as such, anything else as a string.
 */
export function applyEnvOverrides(
  target: Record<string, unknown>,
  env: Record<string, string | undefined>,
  prefix: string,
  sources: Map<string, string>,
): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined || name === `${prefix}CONFIG_FILE`) continue;
    const segments = name.slice(prefix.length).split('__').filter(Boolean).map(camel);
    if (segments.length === 0) continue;
    setPath(target, segments, parseValue(value));
    sources.set(segments.join('.'), `environment variable ${name}`);
  }
}

function camel(segment: string): string {
  if (/^\d+$/.test(segment)) return segment;
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function parseValue(value: string): unknown {
  const trimmed = value.trim();
  if (/^(true|false|null|-?\d+(\.\d+)?|\[.*\]|\{.*\})$/s.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
    const next = node[key];
    if (next === null || typeof next !== 'object') {
      node[key] = /^\d+$/.test(path[i + 1]!) ? [] : {};
    }
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') return;
  node[last] = value;
}
