import express, { Router } from 'express';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConsoleSettings } from './console-settings.js';

/** Where the build (`npm run build`, services/broker/console/build.mjs) puts the console: beside the compiled broker. */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../dist/console-ui/', import.meta.url));

/**
 * The content security policy of the console's pages: only its own script and styles (no inline
 * script or style attribute anywhere), and fetch to the broker and to the IdP it signs in with
 * (discovery and the token endpoint; the sign-in page itself is a top-level navigation).
 */
export function consoleCsp(settings: ConsoleSettings): string {
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    `connect-src 'self' ${new URL(settings.issuer).origin}`,
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "manifest-src 'self'",
  ].join('; ');
}

/**
 * `/console/…`: the operator console's static files (built at build time, no CDN), its public
 * sign-in settings, and index.html for the sign-in callback. Everything it shows comes from the
 * admin APIs with the signed-in operator's IdP token as a bearer; the broker keeps no session.
 */
export function consoleAssets(settings: ConsoleSettings, dir = CONSOLE_ASSETS_DIR): Router {
  const router = Router();
  const csp = consoleCsp(settings);
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-cache');
    next();
  });
  // Middleware, not routes (`router.use`): the API's route list (OpenAPI, authorization matrix) is /v1's alone.
  router.use('/config.json', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.json({ issuer: settings.issuer, clientId: settings.clientId, scope: settings.scope, resource: settings.resource });
    return undefined;
  });
  router.use((req, res, next) => {
    if (existsSync(dir)) return next();
    res.status(503).type('text/plain').send('The console is not built: run `npm run build` (it builds services/broker/dist/console-ui).\n');
    return undefined;
  });
  router.use(express.static(dir, { index: 'index.html', redirect: true, fallthrough: true }));
  // The IdP sends the browser back here with ?code=…; the page itself finishes the sign-in.
  router.use('/callback', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.sendFile('index.html', { root: dir });
    return undefined;
  });
  return router;
}
