// The operator console in a real browser (Debian's chromium driven by playwright-core) against the
// real system: sandbox Genesys, the development IdP (infra/dev-idp) with its sign-in page, a broker
// serving /console/, and a streamer reporting its state. Signs in through the IdP, watches a token
// count down, rotates and sees the new fingerprint and token.rotated arrive without a reload,
// releases a lease, sees a stream's events per second move, its channel expiry, and a gap appear
// after the sandbox drops the socket, revokes and sees token.revoked arrive, signs out (which ends
// the IdP session: RP-initiated logout) and signs in as someone else in the same browser, who gets a
// clear refusal; axe-core on every view and on the IdP's pages (no serious or critical violation,
// light and dark); a screenshot of each view in test/artifacts/console/ (git-ignored).
// CONSOLE_SCREENSHOT=docs/console.png also writes the README's screenshot (the profile view).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Locator, type Page } from 'playwright-core';
import { startSandbox } from '@gtb/sandbox';
import { createRedis, waitReady } from '@gtb/redis';
import { startIdp } from '../fixtures/idp/index.js';
import { brokerConfigFor, CLIENTS, memoryLogger, REDIS_URL, waitUntilReady } from '../support/system.js';
import { freePort } from '../support/redis-server.js';
import { buildStreamer, STREAMING_SANDBOX, streamerConfigFor, streamerTiming } from '../support/streamer-harness.js';
import { brokerConfigSchema } from '../../services/broker/src/config.js';
import { startBroker } from '../../services/broker/src/compose.js';
import { CONSOLE_ASSETS_DIR } from '../../services/broker/src/console/console-assets.js';
import { streamerConfigSchema } from '../../services/streamer/src/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(ROOT, 'test', 'artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOPIC = 'v2.users.00000000-0000-4000-8000-0000000000c1.presence';
const PASSWORD = 'console-test-password';
/** Visible state is waited for, never slept for: generous on a busy 2-core machine. */
const WAIT = { timeout: 20_000 };

/** True when the built console is missing or older than one of its sources. */
function consoleBuildIsStale(): boolean {
  const built = join(CONSOLE_ASSETS_DIR, 'app.js');
  if (!existsSync(built) || !existsSync(join(CONSOLE_ASSETS_DIR, 'index.html'))) return true;
  const builtAt = statSync(built).mtimeMs;
  const sources = join(ROOT, 'services', 'broker', 'console');
  const newer = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > builtAt);
  return newer(sources);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core in the page (evaluated through the DevTools protocol, so the page's CSP stays as it is): serious and critical violations. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  // A string, evaluated in the page (the test's own TypeScript has no DOM types).
  const violations = await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`) as { id: string; impact: string; help: string; targets: string[] }[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join('; ')})`);
}

/**
 * `document.querySelector(selector)?.textContent`, for functions that run in the page: defined
 * there by an init script (CTEXT, through the DevTools protocol, so the page's CSP does not apply)
 * and declared here for the type checker. waitForFunction gets functions, not strings: the
 * console's CSP refuses a string as eval.
 */
declare function textOf(selector: string): string | null | undefined;
const CTEXT = 'globalThis.textOf = (selector) => document.querySelector(selector)?.textContent;';

async function checkView(page: Page, name: string): Promise<void> {
  const bad = await axeViolations(page);
  assert.deepEqual(bad, [], `axe on ${name}`);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test('operator console in chromium: sign in, live profile, rotate, release, stream rate, channel expiry and gap, revoke, sign out at the IdP, another user and a refusal; axe on every view', { timeout: 240_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed (npm test installs Debian's chromium: test/scripts/ensure-tools.mjs)`);
    return;
  }
  // The broker's build makes the console; a checkout that has not built it, or has changed its
  // sources since, builds it here, so that the test never drives a stale console.
  if (consoleBuildIsStale()) execFileSync(process.execPath, [join(ROOT, 'services', 'broker', 'console', 'build.mjs')], { stdio: 'ignore' });
  mkdirSync(SHOTS, { recursive: true });

  const prefix = `test-console-${Math.random().toString(16).slice(2, 10)}`;
  const sandbox = await startSandbox(STREAMING_SANDBOX);
  t.after(() => sandbox.close());
  const brokerPort = await freePort();
  const brokerUrl = `http://127.0.0.1:${brokerPort}`;
  const idp = await startIdp({
    clients: Object.values(CLIENTS),
    publicClients: [{ client_id: 'gtb-console', redirect_uris: [`${brokerUrl}/console/callback`], post_logout_redirect_uris: [`${brokerUrl}/console/`] }],
    users: [
      { username: 'operator', password: PASSWORD, name: 'Test Operator', claims: { roles: ['gtb-admin'] } },
      { username: 'viewer', password: PASSWORD, name: 'Test Viewer' },
    ],
    accessTokenTtl: 900,
  });
  t.after(() => idp.close());
  const genesys = sandbox.admin.createClient({ name: 'sales', tokenLifetimeSeconds: 3600 });
  const raw = brokerConfigFor({ prefix, sandboxUrl: sandbox.url, issuers: [idp.issuer], audience: idp.audience, clients: [{ name: 'sales', ...genesys }] });
  const { logger } = memoryLogger('silent');
  const broker = await startBroker({ config: brokerConfigSchema.parse({ ...raw, http: { host: '127.0.0.1', port: brokerPort, shutdownTimeoutMs: 1000 }, console: { clientId: 'gtb-console' } }), logger });
  t.after(() => broker.stop());
  await waitUntilReady(broker.url);

  const streamerConfig = streamerConfigSchema.parse(streamerConfigFor({
    instanceId: 'console-streamer-1', redis: { mode: 'standalone', url: REDIS_URL }, keyPrefix: prefix, brokerUrl, issuer: idp.issuer,
    ownerLockTtlMs: 3000, timing: streamerTiming({ heartbeatTimeoutMs: 3000, pongTimeoutMs: 2000, connectTimeoutMs: 10_000 }),
    dedupeWindowMs: 60_000, streams: [{ name: 'presence', profile: 'sales', topics: [TOPIC] }],
  }));
  const streamer = await buildStreamer(streamerConfig, idp);
  t.after(() => streamer.stop());
  await streamer.streamer.start();

  const redis = createRedis({ mode: 'standalone', url: REDIS_URL });
  await waitReady(redis);
  t.after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  // A lease of the demo app, for the console to release (the streamer's own keeps running).
  const appToken = await idp.clientCredentialsToken(CLIENTS.app.client_id);
  const grant = await fetch(`${brokerUrl}/v1/leases`, { method: 'POST', headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'sales', holder: 'nightly-export' }) });
  assert.equal(grant.status, 201);

  const userDataDir = await mkdtemp(join(tmpdir(), 'gtb-console-chromium-'));
  t.after(() => rm(userDataDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  t.after(() => context.close());
  await context.addInitScript({ content: CTEXT });
  const page = context.pages()[0] ?? await context.newPage();
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(e.message));

  /** From the console's signed-out page: the IdP must ask who signs in (no session left there). */
  const signIn = async (user: string) => {
    await page.getByRole('button', { name: /^Sign in with/ }).click(WAIT);
    await page.getByLabel('User name').fill(user, WAIT);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  /** The console's Sign out, then the IdP's question (RP-initiated logout), back to the console. */
  const signOut = async (from: Locator = page.getByRole('banner'), screenshot?: string) => {
    await from.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out of the development IdP?' }).waitFor(WAIT);
    if (screenshot) await checkView(page, screenshot);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByTestId('signed-out').filter({ hasText: 'The IdP was asked to end your session there too' }).waitFor(WAIT);
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/console/', 'the return from the IdP cleaned the address bar');
  };
  const card = page.getByTestId('profile-sales');

  await t.test('signs in through the IdP page and sees the profile with a token that counts down', async () => {
    await page.goto(`${brokerUrl}/console/`);
    await signIn('operator');
    // The ID token names the operator by `sub` (the console asks only for `openid`).
    await page.getByTestId('who').filter({ hasText: 'operator' }).waitFor(WAIT);
    assert.equal(new URL(page.url()).pathname, '/console/', 'the callback cleaned the address bar');
    await card.getByTestId('fingerprint').filter({ hasText: /^[0-9a-f]{12}$/ }).waitFor(WAIT);
    const first = await card.getByTestId('time-left').innerText();
    await page.waitForFunction((before) => textOf('[data-testid="profile-sales"] [data-testid="time-left"]') !== before, first, WAIT);
    await checkView(page, 'profiles');
    if (process.env.CONSOLE_SCREENSHOT) copyFileSync(join(SHOTS, 'profiles.png'), resolve(ROOT, process.env.CONSOLE_SCREENSHOT));
  });

  await t.test('rotates from the page: the fingerprint changes and token.rotated arrives without a reload', async () => {
    const before = await card.getByTestId('fingerprint').innerText();
    await card.getByRole('button', { name: 'Rotate token…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/live lease/).waitFor(WAIT);
    await checkView(page, 'rotate-confirm');
    await dialog.getByRole('button', { name: 'Rotate now' }).click();
    await page.waitForFunction((fp) => {
      const now = textOf('[data-testid="profile-sales"] [data-testid="fingerprint"]');
      return !!now && now !== fp && /^[0-9a-f]{12}$/.test(now);
    }, before, WAIT);
    const after = await card.getByTestId('fingerprint').innerText();
    await page.getByTestId('activity').locator('[data-type="token.rotated"]').filter({ hasText: after }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByTestId('feed').locator('[data-type="token.rotated"]').filter({ hasText: `fingerprint ${after}` }).first().waitFor(WAIT);
    await page.getByLabel('Type').selectOption('token.rotated');
    const types = await page.getByTestId('feed').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')));
    assert.ok(types.length >= 1 && types.every((x) => x === 'token.rotated'), `filtered feed: ${types.join(', ')}`);
    await checkView(page, 'events');
  });

  await t.test('releases a lease', async () => {
    await page.getByRole('link', { name: 'Leases' }).click();
    const row = page.getByRole('row').filter({ hasText: 'nightly-export' });
    await row.waitFor(WAIT);
    await page.getByRole('row').filter({ hasText: 'console-streamer-1' }).first().waitFor(WAIT);
    await checkView(page, 'leases');
    await row.getByRole('button', { name: /Release/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Release' }).click();
    await row.waitFor({ state: 'detached', ...WAIT });
    await page.getByTestId('activity').locator('[data-type="lease.released"]').waitFor(WAIT);
  });

  await t.test('a stream: events per second move while the sandbox generates events; a gap appears after the socket is dropped', async () => {
    await page.getByRole('link', { name: 'Streams' }).click();
    const stream = page.getByTestId('stream-presence');
    await stream.getByText('owner, receiving').waitFor(WAIT);
    // The channel's expiry as the streamer reports it (channelExpiresAt), not a dash.
    await stream.getByTestId('channel-age-expiry').filter({ hasText: /\/ in \d/ }).first().waitFor(WAIT);
    const generating = sandbox.admin.generateEvents({ topic: TOPIC, count: 600, ratePerSecond: 60 });
    await page.waitForFunction(() => Number(textOf('[data-testid="stream-presence"] [data-testid="eps"]')) > 0, undefined, WAIT);
    await generating;
    await checkView(page, 'streams');
    assert.ok((sandbox.admin.injectFault({ type: 'drop' }).dropped ?? 0) >= 1, 'the sandbox dropped the socket');
    await stream.getByTestId('gaps').locator('li').first().waitFor(WAIT);
    await page.emulateMedia({ colorScheme: 'dark' });
    await checkView(page, 'streams-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('revokes from the page, after asking: token.revoked arrives in the feed', async () => {
    await page.getByRole('link', { name: 'Profiles' }).click();
    const before = await card.getByTestId('fingerprint').filter({ hasText: /^[0-9a-f]{12}$/ }).innerText(WAIT);
    await card.getByRole('button', { name: 'Revoke token…' }).click();
    const dialog = page.getByRole('dialog');
    // The streamer's lease is live: the dialog says the broker rotates first and revokes the previous token after the grace period.
    await dialog.getByText(/first rotates/).waitFor(WAIT);
    await checkView(page, 'revoke-confirm');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByTestId('activity').locator('[data-type="token.revoked"]').filter({ hasText: `fingerprint ${before}` }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('Type').selectOption('token.revoked');
    await page.getByTestId('feed').locator('[data-type="token.revoked"]').filter({ hasText: `fingerprint ${before}` }).first().waitFor(WAIT);
    await page.getByLabel('Type').selectOption('');
  });

  await t.test('a narrow window: no sideways scrolling, every view still there', async () => {
    await page.setViewportSize({ width: 400, height: 800 });
    await page.getByRole('link', { name: 'Profiles' }).click();
    await card.waitFor(WAIT);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as number;
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the window`);
    await checkView(page, 'profiles-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('signs out, which ends the IdP session: the IdP asks, and the console says so', async () => {
    await signOut(undefined, 'idp-sign-out');
    await checkView(page, 'signed-out');
  });

  await t.test('someone else signs in from the same browser: a non-admin gets a clear refusal, not a blank page', async () => {
    // The IdP shows its form again (its session ended), so another person can sign in here.
    await signIn('viewer');
    const refusal = page.getByTestId('refusal');
    await refusal.getByText('ERR_ADMIN_REQUIRED').waitFor(WAIT);
    assert.match(await refusal.innerText(), /Administrator rights required/);
    assert.equal(await page.getByTestId('who').innerText(), 'viewer');
    await checkView(page, 'refusal');
    await signOut(refusal);
    // And back to the operator, once more through the IdP's form.
    await signIn('operator');
    await card.getByTestId('fingerprint').filter({ hasText: /^[0-9a-f]{12}$/ }).waitFor(WAIT);
    assert.equal(await page.getByTestId('who').innerText(), 'operator');
  });

  assert.deepEqual(cspViolations, [], 'the console runs under its CSP without a violation');
  assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
});
