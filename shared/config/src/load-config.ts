import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GtbError } from '@gtb/errors';
import { applyEnvOverrides } from './env-overrides.js';
import { resolveSecretRefs } from './secret-refs.js';

export interface LoadConfigOptions {
  /** A YAML or JSON file; when omitted, `<prefix>CONFIG_FILE` from the environment, if set. */
  file?: string | undefined;
  /** The environment to read overrides and secrets from (defaults to `process.env`). */
  env?: Record<string, string | undefined>;
  /** Prefix of override variables, e.g. `GTB_BROKER_`. */
  envPrefix: string;
  /** A base object under the file and the environment (defaults for a test, say). */
  base?: Record<string, unknown>;
}

/**
 * Loads, validates and freezes a process's configuration. Order: `base`, then the file, then the
 * environment; then secret references (`…File`, `…Env`) are resolved and the schema applied.
 * A bad configuration throws ERR_CONFIG_INVALID naming every failing setting and where it came from.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions): Readonly<z.output<S>> {
  const env = options.env ?? process.env;
  const file = options.file ?? env[`${options.envPrefix}CONFIG_FILE`];
  const sources = new Map<string, string>();
  let raw: Record<string, unknown> = structuredClone(options.base ?? {});
  let baseDir = process.cwd();

  if (file) {
    const path = resolve(file);
    baseDir = dirname(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new GtbError('ERR_CONFIG_FILE', `cannot read configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new GtbError('ERR_CONFIG_FILE', `configuration file ${path} is not valid YAML or JSON: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new GtbError('ERR_CONFIG_FILE', `configuration file ${path} must hold an object at its top level`);
      }
      raw = deepMerge(raw, parsed as Record<string, unknown>);
    }
    sources.set('', `file ${path}`);
  }

  applyEnvOverrides(raw, env, options.envPrefix, sources);
  resolveSecretRefs(raw, env, baseDir);

  const result = schema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const setting = issue.path.map(String).join('.') || '(root)';
      return `  - ${setting}: ${issue.message} (from ${sourceOf(sources, setting)})`;
    });
    throw new GtbError('ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`, {
      details: { issues: result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  return deepFreeze(result.data) as Readonly<z.output<S>>;
}

function sourceOf(sources: Map<string, string>, setting: string): string {
  for (const [path, source] of sources) {
    if (path !== '' && (setting === path || setting.startsWith(`${path}.`))) return source;
  }
  return sources.get('') ?? 'defaults';
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (key === '__proto__' || key === 'constructor') continue;
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Freezes an object graph so that no module can change configuration after start. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
