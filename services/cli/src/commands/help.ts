import type { CommandInput } from '../context.js';
import { EXIT } from '../exit-codes.js';

/** The usage text, exit codes included (scripts rely on them). */
export const USAGE = `gtb: the Genesys token broker CLI

Usage:
  gtb token <profile>            print the profile's Genesys token (only the token; --json: the broker's body)
  gtb events tail [options]      lifecycle events from Redis: the last -n (10), or --since; then follow (Ctrl-C ends)
      --type <t>                 event type, <group>.* or *; repeatable
      --subject <name>           profile or stream name; repeatable
      --since <id|time|age>      stream id (exclusive), 0 (all), ISO time, or an age: 30s, 15m, 2h, 1d
      -n, --lines <n>            how many recent events without --since (default 10)
      --once                     print what is stored, do not follow
  gtb leases                     live leases (admin)
  gtb rotate <profile>           mint a new token now (admin); prints its fingerprint
  gtb doctor [--profile <p>] [--config <file>]
                                 check settings, broker, identity, Redis, IdP discovery and Genesys logins

Options: --json (machine output), --url <broker URL>, --token-file <path>, --redis-url, --key-prefix, -h/--help

Settings (environment):
  GTB_URL                        broker base URL
  GTB_TOKEN | GTB_TOKEN_FILE     an IdP access token, or:
  GTB_IDP_ISSUER, GTB_IDP_CLIENT_ID, GTB_IDP_CLIENT_SECRET[_FILE], GTB_IDP_SCOPE, GTB_IDP_RESOURCE
                                 IdP client credentials (http:// only for 127.0.0.1)
  REDIS_URL, GTB_KEY_PREFIX      Redis for events tail (default redis://127.0.0.1:6379, prefix gtb)
  GTB_BROKER_CONFIG_FILE         the broker's configuration, for doctor

Exit codes:
  ${EXIT.OK} ok   ${EXIT.FAILURE} failure (doctor: a check failed)   ${EXIT.USAGE} usage   ${EXIT.AUTH} authentication failed
  ${EXIT.NOT_ALLOWED} not allowed   ${EXIT.NOT_FOUND} not found   ${EXIT.UNAVAILABLE} broker/IdP/Redis/Genesys unavailable
  ${EXIT.RATE_LIMITED} rate limited   ${EXIT.CONFIG} settings missing or invalid
`;

/** `gtb --help`. */
export async function helpCommand(input: CommandInput): Promise<number> {
  input.ctx.stdout.write(USAGE);
  return 0;
}
