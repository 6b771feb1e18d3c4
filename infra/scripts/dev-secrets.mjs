// Writes the development secrets infra/compose.yaml mounts (see infra/secrets/README.md). Keeps
// files that exist, so the IdP's and the streamer's copies of the streamer secret stay equal.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'secrets');
mkdirSync(dir, { recursive: true });
const secret = () => randomBytes(24).toString('base64url');

function ensure(name, make) {
  const file = join(dir, name);
  if (!existsSync(file)) {
    writeFileSync(file, `${make()}\n`, { mode: 0o600 });
    console.log(`wrote ${file}`);
  }
  return readFileSync(file, 'utf8').trim();
}

ensure('genesys_sales_client_secret', secret);
ensure('gtb_encryption_key_k1', () => randomBytes(32).toString('base64'));
const streamer = ensure('streamer_idp_client_secret', secret);
ensure('idp_clients', () => JSON.stringify([
  { client_id: 'demo-app', client_secret: secret(), extraClaims: { groups: ['sales-apps'] } },
  { client_id: 'streamer', client_secret: streamer, extraClaims: { groups: ['sales-apps'] } },
  { client_id: 'ops-admin', client_secret: secret(), extraClaims: { roles: ['gtb-admin'] } },
], null, 2));
// People who sign in to the operator console at the dev IdP's page: an admin, and one who is not.
const users = ensure('idp_users', () => {
  const password = secret();
  return JSON.stringify([
    { username: 'operator', password, name: 'Dev Operator', claims: { roles: ['gtb-admin'] } },
    { username: 'viewer', password, name: 'Dev Viewer (not an admin)' },
  ], null, 2);
});
console.log(`development secrets are in ${dir}`);
console.log(`operator console: http://127.0.0.1:8080/console/ as operator / ${JSON.parse(users)[0].password}`);
