import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSystem } from '../../../test/support/system.js';
import { openApiDocument } from '../src/openapi.js';

interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } }

/** Every (method, path) the Express app really routes, in OpenAPI path syntax. */
function routesOf(stack: Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods)) {
        out.push(`${method.toUpperCase()} ${layer.route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
      }
    } else if (layer.handle?.stack) {
      out.push(...routesOf(layer.handle.stack));
    }
  }
  return out;
}

test('the OpenAPI document and the routes agree', async (t) => {
  const sys = await startSystem();
  t.after(() => sys.close());
  const app = sys.broker.broker.app as unknown as { router: { stack: Layer[] } };
  const routed = new Set(routesOf(app.router.stack));
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
  }
  assert.deepEqual([...routed].sort(), [...documented].sort());
  const served = await (await fetch(`${sys.broker.url}/openapi.json`)).json() as { openapi: string };
  assert.equal(served.openapi, '3.1.0');
});
