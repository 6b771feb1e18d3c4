import { z } from 'zod';
import { brokerConfigSchema } from '../../services/broker/src/config.js';
import { streamerConfigSchema } from '../../services/streamer/src/config.js';
import { BROKER_DESCRIPTIONS, STREAMER_DESCRIPTIONS } from './config-descriptions.js';

/** A JSON Schema node as z.toJSONSchema writes it (the parts the reference reads). */
interface Node {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Node[];
  oneOf?: Node[];
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  minimum?: number; maximum?: number; minLength?: number; maxLength?: number; minItems?: number; maxItems?: number;
  pattern?: string;
  format?: string;
}

/** One row of the reference. */
export interface SettingRow { path: string; type: string; required: boolean; default: string; description: string; variants?: string }

/** Settings whose value is a secret: the loader resolves `<name>File` and `<name>Env` into them. */
const SECRET_NAMES = new Set(['clientSecret', 'key', 'password', 'sentinelPassword', 'sharedSecret']);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function typeOf(node: Node): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const alts = node.anyOf ?? node.oneOf;
  if (alts) return alts.map(typeOf).join(' or ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'any'}`;
  const limits: string[] = [];
  if (node.minimum !== undefined && node.minimum > -MAX_SAFE) limits.push(`≥ ${node.minimum}`);
  if (node.maximum !== undefined && node.maximum < MAX_SAFE) limits.push(`≤ ${node.maximum}`);
  if (node.minLength !== undefined && node.minLength > 1) limits.push(`length ≥ ${node.minLength}`);
  if (node.maxLength !== undefined) limits.push(`length ≤ ${node.maxLength}`);
  if (node.format) limits.push(node.format);
  if (node.pattern) limits.push(`matches \`${node.pattern.replace(/\|/g, '\\|')}\``);
  return `${node.type ?? 'any'}${limits.length ? ` (${limits.join(', ')})` : ''}`;
}

function walk(node: Node, path: string, required: boolean, out: SettingRow[], describe: (p: string) => string, variant?: string): void {
  if (path) {
    const name = path.replace(/\[\]$/, '').split('.').pop() ?? '';
    let description = node.description ?? describe(path);
    if (SECRET_NAMES.has(name)) description += ` Set \`${name}File\` (a mounted file) or \`${name}Env\` (a variable name) instead of the value.`;
    const row: SettingRow = {
      path, type: typeOf(node), required, description,
      default: node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``,
    };
    if (variant) row.variants = variant;
    // A union of objects (redis modes) is listed through its variants below, not as one row.
    if (!(node.oneOf ?? node.anyOf)?.some((n) => n.properties)) out.push(row);
    else out.push({ ...row, type: 'object, one of the variants below' });
  }
  const variants = (node.oneOf ?? node.anyOf ?? []).filter((n) => n.properties);
  for (const v of variants) {
    const tag = Object.entries(v.properties ?? {}).find(([, p]) => p.const !== undefined);
    for (const [key, child] of Object.entries(v.properties ?? {})) {
      const childPath = path ? `${path}.${key}` : key;
      if (out.some((r) => r.path === childPath && r.type === typeOf(child))) {
        const existing = out.find((r) => r.path === childPath)!;
        existing.variants = `${existing.variants ?? ''}, ${tag ? String(tag[1].const) : '?'}`;
        continue;
      }
      walk(child, childPath, (v.required ?? []).includes(key), out, describe, tag ? `${tag[0]}: ${String(tag[1].const)}` : undefined);
    }
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    walk(child, path ? `${path}.${key}` : key, (node.required ?? []).includes(key) && child.default === undefined, out, describe);
  }
  if (node.type === 'array' && node.items && (node.items.properties || node.items.oneOf)) {
    for (const [key, child] of Object.entries(node.items.properties ?? {})) {
      walk(child, `${path}[].${key}`, (node.items.required ?? []).includes(key) && child.default === undefined, out, describe);
    }
  }
}

/** Every setting of a zod schema, depth first, in schema order. */
export function settingsOf(schema: z.ZodType, descriptions: Record<string, string>): SettingRow[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Node;
  const rows: SettingRow[] = [];
  walk(json, '', true, rows, (p) => descriptions[p] ?? '_no description yet_');
  return rows;
}

/** `http.shutdownTimeoutMs` → `GTB_BROKER_HTTP__SHUTDOWN_TIMEOUT_MS` (no variable for list items). */
export function envName(prefix: string, path: string): string {
  if (path.includes('[]')) return '';
  return prefix + path.split('.').map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function table(rows: SettingRow[], prefix: string): string {
  const esc = (s: string) => s.replace(/\n/g, ' ');
  const lines = ['| setting | type | required | default | variable | description |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const env = envName(prefix, r.path);
    const when = r.variants ? ` (${r.variants})` : '';
    lines.push(`| \`${r.path}\`${when} | ${esc(r.type)} | ${r.required ? 'yes' : ''} | ${esc(r.default)} | ${env ? `\`${env}\`` : ''} | ${esc(r.description)} |`);
  }
  return lines.join('\n');
}

/** The whole configuration reference, as infra/docs/configuration.md holds it. */
export function renderConfigDocs(): string {
  const broker = settingsOf(brokerConfigSchema, BROKER_DESCRIPTIONS);
  const streamer = settingsOf(streamerConfigSchema, STREAMER_DESCRIPTIONS);
  return `<!-- GENERATED by infra/scripts/gen-config-docs.ts from the zod schemas; do not edit by hand.
     Regenerate: node --conditions=source --import tsx infra/scripts/gen-config-docs.ts -->
# Configuration reference

Each process reads one YAML or JSON file, named by \`GTB_BROKER_CONFIG_FILE\` or
\`GTB_STREAMER_CONFIG_FILE\`, then applies variables over it: \`GTB_BROKER_HTTP__PORT=8081\` sets
\`http.port\` (\`__\` separates levels, \`_\` words become camelCase, a number indexes a list, JSON values
are parsed). The result is validated once at start; a bad setting stops the process (exit 78) with
a message naming the setting and where it came from.

**Secrets** never sit in the file: any setting \`x\` may be given as \`xFile: /run/secrets/…\` (the
file's content, trimmed) or \`xEnv: VARIABLE_NAME\`. Examples for both processes are in
\`infra/config/\` (compose) and \`infra/k8s/*-configmap.yaml\` (Kubernetes).

## Broker (\`services/broker/src/config.ts\`, \`brokerConfigSchema\`)

${table(broker, 'GTB_BROKER_')}

## Streamer (\`services/streamer/src/config.ts\`, \`streamerConfigSchema\`)

${table(streamer, 'GTB_STREAMER_')}
`;
}
