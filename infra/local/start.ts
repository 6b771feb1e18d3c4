// `npm start`: the whole system on this machine for a newcomer — a Redis, the sandbox Genesys, a
// development IdP (oidc-provider), the broker — with copy-paste commands to try it. Ctrl-C stops all.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@gtb/sandbox';
import { startDevIdp } from '../dev-idp/dev-idp.js';
import { brokerRuntime } from '../docker/broker-runtime.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;
// GTB_LOCAL_DIR lets a test (or a second checkout) keep its generated config and secrets apart.
const stateDir = env.GTB_LOCAL_DIR ?? join(root, '.local');
const ports = {
  broker: Number(env.BROKER_PORT ?? 8080),
  sandbox: Number(env.SANDBOX_PORT ?? 9100),
  idp: Number(env.IDP_PORT ?? 9200),
  streamer: Number(env.STREAMER_PORT ?? 9464),
};
/** The demo stream: one user's presence, as a contact-centre integration would follow it. */
const DEMO_TOPIC = 'v2.users.00000000-0000-4000-8000-000000000001.presence';
const say = (line = '') => process.stdout.write(`${line}\n`);
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(800, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(String(d).startsWith('+PONG')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function ensureRedis(): Promise<string> {
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const u = new URL(url);
  if (await ping(u.hostname, Number(u.port || 6379))) {
    say(`redis     ${url} (already running; keys under gtb:*)`);
    return url;
  }
  let bin = '';
  try { bin = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim(); } catch { /* not installed */ }
  if (!bin) {
    throw new Error(`no Redis answers at ${url}, and redis-server is not installed.\n` +
      '  Install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL to a running Redis.');
  }
  const port = await freePort();
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 50 && !(await ping('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 100));
  const started = `redis://127.0.0.1:${port}`;
  say(`redis     ${started} (ephemeral: started now, stopped on Ctrl-C)`);
  return started;
}

async function main(): Promise<void> {
  say('Genesys token broker — local system\n');
  const redisUrl = await ensureRedis();
  const adminKey = env.SANDBOX_ADMIN_KEY ?? 'dev-admin-key';
  const consolePassword = env.GTB_CONSOLE_PASSWORD ?? randomBytes(9).toString('base64url');
  const genesysClient = { clientId: 'dev-genesys-client', clientSecret: randomBytes(18).toString('base64url') };
  const sandbox = await startSandbox({ port: ports.sandbox, adminKey, clients: [{ ...genesysClient, name: 'dev', tokenLifetimeSeconds: 3600 }] });
  cleanups.push(() => sandbox.close());
  say(`sandbox   ${sandbox.url} (Genesys Cloud look-alike; admin API /__sandbox with x-sandbox-key: ${adminKey})`);

  const idp = await startDevIdp({
    port: ports.idp,
    clients: [
      { client_id: 'demo-app', client_secret: 'demo-app-secret', extraClaims: { groups: ['sales-apps'] } },
      { client_id: 'streamer', client_secret: 'streamer-secret', extraClaims: { groups: ['sales-apps'] } },
      { client_id: 'ops-admin', client_secret: 'ops-admin-secret', extraClaims: { roles: ['gtb-admin'] } },
    ],
    // The operator console signs in here (authorization code + PKCE) as one of these people.
    // Its sign-out ends the IdP session too (RP-initiated logout) and comes back to the console.
    publicClients: [{
      client_id: 'gtb-console',
      redirect_uris: [`http://127.0.0.1:${ports.broker}/console/callback`],
      post_logout_redirect_uris: [`http://127.0.0.1:${ports.broker}/console/`],
    }],
    users: [
      { username: 'operator', password: consolePassword, name: 'Dev Operator', claims: { roles: ['gtb-admin'] } },
      { username: 'viewer', password: consolePassword, name: 'Dev Viewer (not an admin)' },
    ],
    accessTokenTtl: 3600,
  });
  cleanups.push(() => idp.close());
  say(`idp       ${idp.issuer} (development IdP, infra/dev-idp: oidc-provider; clients demo-app, streamer, ops-admin; console client gtb-console)`);

  mkdirSync(stateDir, { recursive: true });
  const configFile = join(stateDir, 'broker.json');
  // Secrets go to files beside the config (0600), as in production; the config names them.
  writeFileSync(join(stateDir, 'genesys-client-secret'), genesysClient.clientSecret, { mode: 0o600 });
  writeFileSync(join(stateDir, 'cache-key-dev1'), randomBytes(32).toString('base64'), { mode: 0o600 });
  writeFileSync(configFile, JSON.stringify({
    instanceId: 'local-broker-1',
    http: { host: '127.0.0.1', port: ports.broker },
    redis: { mode: 'standalone', url: redisUrl },
    idps: [{ issuer: idp.issuer, audience: idp.audience, allowInsecure: true }],
    policy: { rules: [
      { name: 'admins', match: { issuer: idp.issuer, rolesAny: ['gtb-admin'] }, profiles: ['*'], admin: true },
      { name: 'sales-apps', match: { issuer: idp.issuer, groupsAny: ['sales-apps'] }, profiles: ['sales'] },
    ] },
    profiles: [{ name: 'sales', loginBaseUrl: sandbox.url, apiBaseUrl: sandbox.url, clientId: genesysClient.clientId, clientSecretFile: 'genesys-client-secret' }],
    encryption: { keys: [{ id: 'dev1', keyFile: 'cache-key-dev1' }], primary: 'dev1' },
    console: { clientId: 'gtb-console' },
  }, null, 2), { mode: 0o600 });

  const brokerUrl = `http://127.0.0.1:${ports.broker}`;
  // The image's Node flags and variables (infra/docker/broker.Dockerfile), as the broker ships.
  const runtime = brokerRuntime();
  await startService('broker', 'services/broker/src/main.ts', { ...runtime.env, GTB_BROKER_CONFIG_FILE: configFile }, brokerUrl, runtime.nodeArgs);
  say(`broker    ${brokerUrl} (config ${configFile}; log ${join(stateDir, 'broker.log')})`);
  say(`console   ${brokerUrl}/console/ (operator console: sign in as operator / ${consolePassword}; viewer / ${consolePassword} is not an admin)`);

  const streamerConfigFile = join(stateDir, 'streamer.json');
  writeFileSync(join(stateDir, 'streamer-idp-secret'), 'streamer-secret', { mode: 0o600 });
  writeFileSync(streamerConfigFile, JSON.stringify({
    instanceId: 'local-streamer-1',
    redis: { mode: 'standalone', url: redisUrl },
    brokerUrl,
    identity: { issuer: idp.issuer, clientId: 'streamer', clientSecretFile: 'streamer-idp-secret', allowInsecure: true },
    http: { host: '127.0.0.1', port: ports.streamer },
    streams: [{ name: 'sales-presence', profile: 'sales', topics: [DEMO_TOPIC] }],
  }, null, 2), { mode: 0o600 });
  const streamerUrl = `http://127.0.0.1:${ports.streamer}`;
  await startService('streamer', 'services/streamer/src/main.ts', { GTB_STREAMER_CONFIG_FILE: streamerConfigFile }, streamerUrl);
  say(`streamer  ${streamerUrl} (stream sales-presence → Redis Stream gtb:events:{sales-presence}; log ${join(stateDir, 'streamer.log')})`);

  const token = (client: string, secret: string) =>
    `curl -s -u ${client}:${secret} -d grant_type=client_credentials ${idp.issuer}/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token'`;
  say(`
Try it (copy and paste):

  # 1. an app's corporate token from the dev IdP, then its Genesys token from the broker
  APP=$(${token('demo-app', 'demo-app-secret')})
  curl -s -H "Authorization: Bearer $APP" ${brokerUrl}/v1/tokens/sales

  # 2. the same as an RFC 8693 token exchange
  curl -s ${brokerUrl}/oauth2/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\
    -d subject_token_type=urn:ietf:params:oauth:token-type:access_token -d audience=sales -d subject_token=$APP

  # 3. tail lifecycle events (token.minted, token.rotated, lease.*) in another terminal
  redis-cli -u ${redisUrl} PSUBSCRIBE 'gtb:lifecycle:*'

  # 4. trigger a rotation as an admin, and see upstream counts at the sandbox
  ADMIN=$(${token('ops-admin', 'ops-admin-secret')})
  curl -s -X POST -H "Authorization: Bearer $ADMIN" ${brokerUrl}/v1/profiles/sales/rotate
  curl -s -H "x-sandbox-key: ${adminKey}" ${sandbox.url}/__sandbox/counters

  # 5. the same with the gtb CLI (exit codes for scripts; --json for machines)
  export GTB_URL=${brokerUrl} REDIS_URL=${redisUrl} GTB_IDP_ISSUER=${idp.issuer} GTB_IDP_CLIENT_ID=ops-admin GTB_IDP_CLIENT_SECRET=ops-admin-secret
  npm run -s gtb -- token sales
  npm run -s gtb -- rotate sales
  npm run -s gtb -- leases
  npm run -s gtb -- events tail --since 15m --once
  GTB_BROKER_CONFIG_FILE=${configFile} npm run -s gtb -- doctor

  # 6. read the durable event stream
  redis-cli -u ${redisUrl} XRANGE gtb:lifecycle - + COUNT 10

  # 7. Genesys notifications: the sandbox sends 5 events, the streamer forwards each once
  curl -s -X POST -H "x-sandbox-key: ${adminKey}" -H 'content-type: application/json' \\
    -d '{"topic":"${DEMO_TOPIC}","count":5}' ${sandbox.url}/__sandbox/events
  sleep 1; redis-cli -u ${redisUrl} XRANGE 'gtb:events:{sales-presence}' - + COUNT 10

Ctrl-C stops everything.`);
}

/** Starts one of our services from source, its log in the state folder, and waits for /readyz. */
async function startService(name: string, entry: string, extraEnv: Record<string, string>, url: string, nodeArgs: string[] = []): Promise<void> {
  const log = openSync(join(stateDir, `${name}.log`), 'w');
  const child = spawn(process.execPath, [...nodeArgs, '--conditions=source', '--import', 'tsx', join(root, entry)], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', log, log],
  });
  children.push(child);
  child.on('exit', (code) => { if (!stopping) { say(`${name} exited (${code}); see ${join(stateDir, `${name}.log`)}; stopping`); void stop(1); } });
  for (let i = 0; i < 150; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (child.exitCode === null && !(await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) {
    say(`${name} is not ready after 30 s; see ${join(stateDir, `${name}.log`)}`);
  }
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('\nstopping…');
  for (const child of children.reverse()) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => { c.once('exit', r); setTimeout(r, 5000).unref(); }))));
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
main().catch((err: unknown) => {
  console.error(`\nnpm start failed: ${(err as Error).message}`);
  void stop(1);
});
