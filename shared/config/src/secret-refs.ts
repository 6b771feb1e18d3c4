import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { GtbError } from '@gtb/errors';

/**
 * Resolves secret references anywhere in the raw configuration, so that secrets never have to sit
 * in the file itself: `clientSecretFile: /run/secrets/x` becomes `clientSecret: <file content>`,
 * `clientSecretEnv: GENESYS_SECRET` becomes `clientSecret: process.env.GENESYS_SECRET`.
 */
export function resolveSecretRefs(
  node: unknown,
  env: Record<string, string | undefined>,
  baseDir: string,
  path: string[] = [],
): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => resolveSecretRefs(item, env, baseDir, [...path, String(i)]));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const fileMatch = /^(.+)File$/.exec(key);
    const envMatch = /^(.+)Env$/.exec(key);
    if (fileMatch && typeof value === 'string') {
      const file = isAbsolute(value) ? value : resolve(baseDir, value);
      try {
        obj[fileMatch[1]!] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new GtbError('ERR_CONFIG_FILE', `setting ${[...path, key].join('.')}: cannot read secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      delete obj[key];
    } else if (envMatch && typeof value === 'string') {
      const secret = env[value];
      if (secret === undefined || secret === '') {
        throw new GtbError('ERR_CONFIG_INVALID', `setting ${[...path, key].join('.')}: environment variable ${value} is not set`);
      }
      obj[envMatch[1]!] = secret;
      delete obj[key];
    } else {
      resolveSecretRefs(value, env, baseDir, [...path, key]);
    }
  }
}
