// Container HEALTHCHECK without curl (node:24-bookworm-slim has none): `node healthcheck.mjs <url> [maxStatus]`.
// Exits 0 when the URL answers with a status below maxStatus (default 300) within 3 s.
const [url = 'http://127.0.0.1:8080/healthz', maxStatus = '300'] = process.argv.slice(2);
fetch(url, { signal: AbortSignal.timeout(3000) }).then(
  (res) => process.exit(res.status < Number(maxStatus) ? 0 : 1),
  () => process.exit(1),
);
