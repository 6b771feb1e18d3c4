// Makes sure the Debian tools the tests drive are installed: Prometheus with promtool (the alert
// rules' tests run a real server) and chromium (the operator console's browser test). Installs the missing packages with apt-get, once, and says so.
import { execFileSync, spawnSync } from 'node:child_process';

/** Command → the Debian package that brings it. */
const TOOLS = { promtool: 'prometheus', prometheus: 'prometheus', chromium: 'chromium' };

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() !== '';

export function ensureTools(tools = TOOLS) {
  const missing = [...new Set(Object.entries(tools).filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
  if (missing.length === 0) {
    console.log(`tools: ${Object.keys(tools).join(', ')} installed`);
    return;
  }
  console.log(`tools: installing Debian's ${missing.join(', ')} (apt-get) for ${Object.keys(tools).filter((c) => !has(c)).join(', ')}`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureTools();
