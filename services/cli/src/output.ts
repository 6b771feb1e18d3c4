import { GtbError } from '@gtb/errors';
import type { CommandInput } from './context.js';

/** Writes one line to stdout. */
export function line(input: CommandInput, text: string): void {
  input.ctx.stdout.write(`${text}\n`);
}

/** Writes a value as one JSON line to stdout. */
export function jsonLine(input: CommandInput, value: unknown): void {
  input.ctx.stdout.write(`${JSON.stringify(value)}\n`);
}

/** What to do about an error, in one sentence, when there is something the user can do. */
function hint(err: GtbError): string | undefined {
  switch (err.code) {
    case 'ERR_BROKER_UNREACHABLE': return 'check GTB_URL and that the broker is running (gtb doctor)';
    case 'ERR_PROFILE_NOT_ALLOWED': return 'ask the broker admin to grant this identity the profile in the policy';
    case 'ERR_ADMIN_REQUIRED': return 'this command needs an identity with an admin rule in the broker policy';
    case 'ERR_PROFILE_UNKNOWN': return 'list profiles with an admin identity, or check the spelling';
    case 'ERR_IDP_CREDENTIALS_REJECTED': return 'check GTB_IDP_CLIENT_ID and GTB_IDP_CLIENT_SECRET';
    case 'ERR_IDP_TOKEN_EXPIRED': return 'get a fresh IdP token (GTB_TOKEN / GTB_TOKEN_FILE)';
    case 'ERR_IDP_TOKEN_TYPE': return 'send an access token from the IdP, not an ID token (the broker\'s idps[].acceptedTypes and allowIdTokens decide)';
    case 'ERR_IDP_CLIENT_NOT_ALLOWED': return 'this IdP client is not in the broker\'s idps[].allowedClients: ask the broker admin to add it';
    case 'ERR_USAGE': return 'see gtb --help';
    default: return undefined;
  }
}

/** Reports an error on stderr: a human line with code and hint, or a JSON object with --json. No secret is ever in it. */
export function printError(input: Pick<CommandInput, 'ctx' | 'json'>, err: unknown): void {
  const e = err instanceof GtbError ? err : new GtbError('ERR_INTERNAL', err instanceof Error ? err.message : 'unexpected failure', { cause: err });
  if (input.json) {
    const body: Record<string, unknown> = { code: e.code, message: e.message, status: e.status };
    if (e.retryAfter !== undefined) body['retryAfter'] = e.retryAfter;
    input.ctx.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  const retry = e.retryAfter !== undefined ? ` (retry after ${e.retryAfter} s)` : '';
  const fix = hint(e);
  input.ctx.stderr.write(`gtb: ${e.message} [${e.code}]${retry}\n${fix ? `  fix: ${fix}\n` : ''}`);
}

/** A fixed-width table for human output. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
