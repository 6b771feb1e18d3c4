// Writes infra/docs/configuration.md from the zod schemas; `--check` exits 1 when it is stale.
//   node --conditions=source --import tsx infra/scripts/gen-config-docs.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './config-docs.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'configuration.md');
const text = renderConfigDocs();
if (process.argv.includes('--check')) {
  const current = (() => { try { return readFileSync(target, 'utf8'); } catch { return ''; } })();
  if (current !== text) {
    console.error(`${target} is out of date: run node --conditions=source --import tsx infra/scripts/gen-config-docs.ts`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
