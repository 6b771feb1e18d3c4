import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childHandle, collectLines } from '../../../../test/support/child-handle.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const MAIN = join(ROOT, 'services', 'streamer', 'src', 'main.ts');

/** A streamer replica as its own Node process (what production runs), so a test can SIGKILL it. */
export interface StreamerProcess {
  pid: number;
  url: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | string>;
  readyz(): Promise<{ status: number; body: { ready: boolean; streams: { owner: boolean; receiving: boolean; channelFingerprint?: string }[] } }>;
  kill(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

/** Starts `src/main.ts` with the configuration in a temporary `GTB_STREAMER_CONFIG_FILE`; resolves once it listens. */
export async function spawnStreamer(config: Record<string, unknown>, timeoutMs = 30_000): Promise<StreamerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'gtb-streamer-'));
  const file = join(dir, 'streamer.json');
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GTB_STREAMER_') && !k.startsWith('NODE_TEST')) env[k] = v;
  env.GTB_STREAMER_CONFIG_FILE = file;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`streamer did not listen in ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`streamer exited (${code}):\n${lines.slice(-20).join('\n')}`)); });
    for (const stream of [child.stdout!, child.stderr!]) {
      collectLines(stream, lines, (line) => {
        const m = /"streamer listening".*|"port":(\d+).*"streamer listening"/.exec(line);
        if (m && line.includes('"streamer listening"')) {
          const port = /"port":(\d+)/.exec(line)?.[1];
          clearTimeout(timer);
          resolveUrl(`http://127.0.0.1:${port}`);
        }
      });
    }
  });
  return {
    pid: child.pid!,
    url,
    child,
    lines,
    exited,
    async readyz() {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, body: await res.json() as never };
    },
    ...childHandle(child, exited),
  };
}
