// Makes sure a Redis answers at REDIS_URL (default redis://127.0.0.1:6379) before tests run.
// Where none answers, it installs Debian's redis-server if missing and starts one on loopback,
// and says so. It never stops or changes a Redis it did not start.
import { createConnection } from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const host = url.hostname || '127.0.0.1';
const port = Number(url.port || 6379);

function ping() {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(String(d).startsWith('+PONG')));
  });
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
}

export async function ensureRedis() {
  if (await ping()) {
    console.log(`redis: using the server at ${host}:${port}`);
    return;
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new Error(`redis: nothing answers at ${host}:${port}, and it is not a loopback address I may start one on`);
  }
  let bin = which('redis-server') || (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : '');
  if (!bin) {
    console.log('redis: redis-server is not installed; installing Debian\'s redis-server package (apt-get)');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    bin = which('redis-server') || '/usr/bin/redis-server';
  }
  console.log(`redis: nothing answered at ${host}:${port}; starting ${bin} there (no persistence)`);
  execFileSync(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--dir', '/tmp', '--logfile', `/tmp/gtb-redis-${port}.log`], { stdio: 'inherit' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await ping()) {
      console.log(`redis: started at ${host}:${port}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`redis: started redis-server but ${host}:${port} does not answer (see /tmp/gtb-redis-${port}.log)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureRedis().catch((err) => { console.error(err.message); process.exit(1); });
}
