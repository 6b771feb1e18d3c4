// Root postinstall. The `node` devDependency (Node 24, the runtime the images ship; `npm test` runs the
// suite on it a second time) declares a `node` bin, so npm links node_modules/.bin/node, and npm puts
// node_modules/.bin first on the PATH of every script: `npm start`, `npm test`, turbo, tsc and eslint
// would silently switch to Node 24. Removing the link keeps them on the machine's node (Node 20 here);
// test/scripts/run-tests.mjs calls the Node 24 binary by its path instead.
// `npm install <pkg>` does not run the root postinstall and may link it again until the next `npm ci`;
// run-tests.mjs does not depend on this script having run.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.bin');
for (const name of ['node', 'node.cmd', 'node.ps1']) rmSync(join(bin, name), { force: true });
