// The sample configurations under infra/ validate against the real zod schemas, the generated
// configuration reference is up to date, the runbook covers what it must, and the dev IdP starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { loadConfig } from '@gtb/config';
import { brokerConfigSchema } from '../../services/broker/src/config.js';
import { streamerConfigSchema } from '../../services/streamer/src/config.js';
import { readSandboxConfig } from '../../services/sandbox/src/config.js';
import { createBrokerMetrics } from '../../services/broker/src/metrics.js';
import { renderConfigDocs } from '../../infra/scripts/config-docs.js';
import { readDevIdpConfig } from '../../infra/dev-idp/dev-idp-config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INFRA = join(ROOT, 'infra');

/**
 * Copies a configuration into a temporary directory with every `…File` secret reference pointed at
 * a dummy file there (a 32-byte base64 key for `keyFile`), and returns the new file and the
 * original secret paths, so that loadConfig resolves and validates it exactly as in production.
 */
function withDummySecrets(raw: unknown, dir: string): { file: string; secretPaths: string[] } {
  const secretPaths: string[] = [];
  let n = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
      if (/File$/.test(key) && typeof value === 'string') {
        secretPaths.push(value);
        const dummy = join(dir, `secret-${n++}`);
        // A CA or certificate setting must look like PEM (the schemas check the armour).
        const pem = /(?:^ca|Ca|^cert)File$/.test(key) ? `-----BEGIN CERTIFICATE-----\n${randomBytes(12).toString('base64')}\n-----END CERTIFICATE-----` : undefined;
        writeFileSync(dummy, key === 'keyFile' ? randomBytes(32).toString('base64') : pem ?? `dummy-${randomBytes(12).toString('hex')}`);
        obj[key] = dummy;
      } else visit(value);
    }
  };
  visit(raw);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(raw));
  return { file, secretPaths };
}

function validate<S extends z.ZodType>(schema: S, raw: unknown, envPrefix: string, t: { after(fn: () => void): void }): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'gtb-infra-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { file, secretPaths } = withDummySecrets(raw, dir);
  loadConfig(schema, { file, env: {}, envPrefix }); // throws ERR_CONFIG_INVALID naming the setting
  return secretPaths;
}

const yamlFile = (path: string) => parse(readFileSync(join(INFRA, path), 'utf8')) as Record<string, unknown>;

test('compose config files validate against the schemas, with secrets from the mounted docker secrets', (t) => {
  const compose = parse(readFileSync(join(INFRA, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { secrets?: string[] }> };
  const cases = [
    { file: 'config/broker.yaml', schema: brokerConfigSchema, prefix: 'GTB_BROKER_', service: 'broker-1' },
    { file: 'config/streamer.yaml', schema: streamerConfigSchema, prefix: 'GTB_STREAMER_', service: 'streamer-1' },
  ];
  for (const c of cases) {
    const secrets = validate(c.schema, yamlFile(c.file), c.prefix, t);
    assert.ok(secrets.length >= 1, `${c.file} reads its secrets from files`);
    const mounted = compose.services[c.service]?.secrets ?? [];
    for (const path of secrets) assert.ok(mounted.some((s) => path === `/run/secrets/${s}`), `${c.file}: ${path} is a docker secret ${c.service} mounts`);
  }
  // The sandbox validates through its own reader (SANDBOX_CONFIG_FILE).
  const dir = mkdtempSync(join(tmpdir(), 'gtb-infra-sandbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { file } = withDummySecrets(yamlFile('config/sandbox.yaml'), dir);
  const sandbox = readSandboxConfig({ SANDBOX_CONFIG_FILE: file });
  assert.equal(sandbox.clients[0]?.clientId, (yamlFile('config/broker.yaml').profiles as { clientId: string }[])[0]?.clientId, 'the sandbox knows the broker\'s client');
});

test('kubernetes ConfigMaps validate against the schemas, with secrets under mounted Secret volumes', (t) => {
  const cases = [
    { file: 'k8s/broker-configmap.yaml', deployment: 'k8s/broker-deployment.yaml', key: 'broker.yaml', schema: brokerConfigSchema, prefix: 'GTB_BROKER_' },
    { file: 'k8s/streamer-configmap.yaml', deployment: 'k8s/streamer-deployment.yaml', key: 'streamer.yaml', schema: streamerConfigSchema, prefix: 'GTB_STREAMER_' },
  ];
  for (const c of cases) {
    const cm = parseAllDocuments(readFileSync(join(INFRA, c.file), 'utf8'))[0]!.toJS() as { data: Record<string, string> };
    const raw = parse(cm.data[c.key]!) as unknown;
    const secrets = validate(c.schema, raw, c.prefix, t);
    const deployment = parseAllDocuments(readFileSync(join(INFRA, c.deployment), 'utf8'), { version: '1.1' })[0]!.toJS() as {
      spec: { template: { spec: { containers: { volumeMounts: { name: string; mountPath: string }[] }[]; volumes: { name: string; secret?: unknown }[] } } };
    };
    const pod = deployment.spec.template.spec;
    const secretMounts = pod.containers[0]!.volumeMounts.filter((m) => pod.volumes.find((v) => v.name === m.name)?.secret);
    for (const path of secrets) assert.ok(secretMounts.some((m) => path.startsWith(`${m.mountPath}/`)), `${c.file}: ${path} lies in a mounted Secret`);
  }
});

test('infra/docs/configuration.md is the generated reference of the current schemas', () => {
  const committed = readFileSync(join(INFRA, 'docs', 'configuration.md'), 'utf8');
  assert.ok(committed === renderConfigDocs(), 'stale: run node --conditions=source --import tsx infra/scripts/gen-config-docs.ts');
  for (const setting of ['redis.sentinels', 'profiles[].clientSecret', 'encryption.primary', 'streams[].topics', 'leases.graceSeconds']) {
    assert.ok(committed.includes(`\`${setting}\``), `lists ${setting}`);
  }
});

test('the runbook covers the operations and names every broker metric', async () => {
  const runbook = readFileSync(join(INFRA, 'docs', 'runbook.md'), 'utf8');
  for (const heading of ['Add a profile', 'Rotate a Genesys client secret', 'Rotate the encryption key', 'Revoke a leaked token', 'Read the metrics', 'Handle a throttling storm']) {
    assert.match(runbook, new RegExp(`^## ${heading}$`, 'm'), heading);
  }
  for (const text of ['DELETE -H', '/v1/profiles/sales/token', 'gtb:{<profile>}:cooldown', 'Retry-After', 'primary: k2026b']) assert.ok(runbook.includes(text), text);
  const metrics = createBrokerMetrics();
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('gtb_') && !n.startsWith('gtb_broker_'));
  assert.ok(names.length >= 10);
  for (const name of names) assert.ok(runbook.includes(`\`${name}`), `the runbook explains ${name}`);
});

test('dev IdP settings: clients, console client and users from variables or files; bad input has a stable code', (t) => {
  const clients = [{ client_id: 'demo-app', client_secret: 'demo-app-secret', extraClaims: { groups: ['sales-apps'] } }];
  const config = readDevIdpConfig({ IDP_PORT: '9300', IDP_CLIENTS: JSON.stringify(clients) });
  assert.deepEqual(config, { port: 9300, clients, publicClients: [], users: [], accessTokenTtl: 3600, audience: 'api://gtb-broker' });
  const publicClients = [{ client_id: 'gtb-console', redirect_uris: ['http://127.0.0.1:8080/console/callback'], post_logout_redirect_uris: ['http://127.0.0.1:8080/console/'] }];
  const users = [{ username: 'operator', password: 'operator-password', claims: { roles: ['gtb-admin'] } }];
  const dir = mkdtempSync(join(tmpdir(), 'gtb-dev-idp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'clients.json'), JSON.stringify(clients));
  assert.equal(readDevIdpConfig({ IDP_CLIENTS_FILE: join(dir, 'clients.json') }).clients[0]?.client_id, 'demo-app');
  writeFileSync(join(dir, 'users.json'), JSON.stringify(users));
  const withUsers = readDevIdpConfig({ IDP_CLIENTS: JSON.stringify(clients), IDP_PUBLIC_CLIENTS: JSON.stringify(publicClients), IDP_USERS_FILE: join(dir, 'users.json') });
  assert.deepEqual([withUsers.publicClients, withUsers.users], [publicClients, users]);
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS: JSON.stringify(clients), IDP_USERS: JSON.stringify([...users, ...users]) }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS: JSON.stringify(clients), IDP_PUBLIC_CLIENTS: JSON.stringify([{ client_id: 'c', redirect_uris: ['not a url'] }]) }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS: JSON.stringify(clients), IDP_USERS: JSON.stringify([{ username: 'u', password: 'shortpw' }]) }), (err: Error & { code?: string }) =>
    err.code === 'ERR_CONFIG_INVALID' && err.message.includes('IDP_USERS') && !err.message.includes('shortpw'));
  assert.throws(() => readDevIdpConfig({}), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS: '[{' }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS: JSON.stringify(clients), IDP_PORT: 'x' }), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS_FILE: join(dir, 'missing.json') }), { code: 'ERR_CONFIG_FILE' });
  assert.throws(() => readDevIdpConfig({ IDP_CLIENTS: JSON.stringify([{ client_id: 'x', client_secret: 'short' }]) }), (err: Error & { code?: string }) =>
    err.code === 'ERR_CONFIG_INVALID' && !err.message.includes('short'));
});

test('compose: the dev IdP registers the console client the brokers use, with both brokers\' callback and sign-out return', () => {
  const compose = parse(readFileSync(join(INFRA, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; secrets?: string[] }>;
  };
  const broker = parse(readFileSync(join(INFRA, 'config', 'broker.yaml'), 'utf8')) as { console?: { clientId?: string } };
  const idp = compose.services['idp']!;
  assert.ok(idp.secrets?.includes('idp_users') && idp.environment?.['IDP_USERS_FILE'] === '/run/secrets/idp_users', 'the console users come from a docker secret');
  const config = readDevIdpConfig({ ...idp.environment, IDP_CLIENTS_FILE: undefined, IDP_USERS_FILE: undefined, IDP_CLIENTS: JSON.stringify([{ client_id: 'demo-app', client_secret: 'demo-app-secret' }]) });
  const client = config.publicClients.find((c) => c.client_id === broker.console?.clientId);
  assert.ok(client, `the dev IdP registers console.clientId ${broker.console?.clientId}`);
  const ports = Object.values(compose.services).map((svc) => svc.environment?.['GTB_BROKER_HTTP__PORT']).filter((x): x is string => !!x);
  assert.equal(ports.length, 2);
  for (const port of ports) {
    assert.ok(client.redirect_uris.includes(`http://127.0.0.1:${port}/console/callback`), `broker on ${port}: callback registered`);
    assert.ok(client.post_logout_redirect_uris?.includes(`http://127.0.0.1:${port}/console/`), `broker on ${port}: sign-out return registered`);
  }
});

test('infra/dev-idp/main.ts serves OpenID discovery, issues a client-credentials token and shows the console client its sign-in page', { timeout: 30_000 }, async (t) => {
  const clients = [{ client_id: 'demo-app', client_secret: 'demo-app-secret' }];
  const publicClients = [{ client_id: 'gtb-console', redirect_uris: ['http://127.0.0.1:8080/console/callback'] }];
  const users = [{ username: 'operator', password: 'operator-password', claims: { roles: ['gtb-admin'] } }];
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(INFRA, 'dev-idp', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, IDP_PORT: '0', IDP_CLIENTS: JSON.stringify(clients), IDP_PUBLIC_CLIENTS: JSON.stringify(publicClients), IDP_USERS: JSON.stringify(users) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; });
  let output = '';
  const issuer = await new Promise<string>((resolveIssuer, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev idp did not start: ${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += String(d);
      const m = /"issuer":"([^"]+)"/.exec(output);
      if (m) { clearTimeout(timer); resolveIssuer(m[1]!); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => { clearTimeout(timer); reject(new Error(`dev idp exited: ${output}`)); });
  });
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; token_endpoint: string; authorization_endpoint: string; end_session_endpoint?: string };
  assert.equal(discovery.issuer, issuer);
  assert.equal(discovery.end_session_endpoint, `${issuer}/session/end`, 'RP-initiated logout is offered');
  // The console's authorization request (code + PKCE) leads to the IdP's own sign-in form.
  const authorize = new URL(discovery.authorization_endpoint);
  for (const [k, v] of Object.entries({ client_id: 'gtb-console', redirect_uri: publicClients[0]!.redirect_uris[0]!, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) authorize.searchParams.set(k, v);
  const started = await fetch(authorize, { redirect: 'manual' });
  assert.equal(started.status, 303);
  const cookie = started.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const signInPage = await fetch(new URL(started.headers.get('location')!, issuer), { headers: { cookie } });
  assert.equal(signInPage.status, 200);
  assert.match(await signInPage.text(), /<form method="post" action="\/interaction\/[^"]+\/login"/);
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('demo-app:demo-app-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { token_type: string }).token_type, 'Bearer');
  assert.ok(!output.includes('demo-app-secret'), 'the client secret is never logged');
  assert.ok(!output.includes('operator-password'), 'no password is logged');
});
