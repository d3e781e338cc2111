import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './kansui.ts';
import { getFreePort } from './ports.ts';
import { waitFor } from './wait.ts';

/** Debian's nginx (.ci/run installs it). */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync);
const SHIPPED = fileURLToPath(new URL('../../deploy/nginx/kansui.conf', import.meta.url));
const SHIPPED_ROLES = fileURLToPath(new URL('../../deploy/nginx/kansui-roles.conf', import.meta.url));

export interface RunningNginx {
  url: string;
  port: number;
  dir: string;
  /** `nginx -t` output for the config as run. */
  checked: { status: number | null; stderr: string };
  stop(): Promise<void>;
}

/**
 * The shipped deploy/nginx/kansui.conf in front of a kansui on `upstreamPort`,
 * with only the upstream address, the listen port and the cache path moved
 * into a temp dir, under a minimal main config (`include`d inside `http {}`
 * as the nginx image and Debian's conf.d do). Resolves once /healthz answers
 * through it.
 */
export async function startNginx(upstreamPort: number): Promise<RunningNginx> {
  const site = readFileSync(SHIPPED, 'utf8').replace('server kansui:8080;', `server 127.0.0.1:${upstreamPort};`);
  return runSite(site);
}

/** Loopback ports of the processes behind deploy/nginx/kansui-roles.conf, per upstream. */
export interface RolePools {
  core: number[];
  ingest: number[];
  web: number[];
}

/**
 * The shipped deploy/nginx/kansui-roles.conf (issue 15: an upstream per role)
 * with each upstream's `server` lines replaced by `pools`' loopback ports,
 * everything else as shipped. Resolves once /healthz answers through it.
 */
export async function startRolesNginx(pools: RolePools): Promise<RunningNginx> {
  let site = readFileSync(SHIPPED_ROLES, 'utf8');
  for (const [role, ports] of Object.entries(pools) as [keyof RolePools, number[]][]) {
    const block = new RegExp(`(upstream kansui_${role} \\{\\n)([\\s\\S]*?)(\\n\\})`);
    if (!block.test(site)) throw new Error(`kansui-roles.conf has no upstream kansui_${role}`);
    site = site.replace(block, (_, open: string, body: string, close: string) => {
      const kept = body.split('\n').filter((l) => !/^\s*server\s/.test(l));
      // The shipped server lines' parameters (max_fails=0 …) stay, on each loopback port.
      const params = /^\s*server\s+\S+?((?:\s+[^;\s]+)*);/m.exec(body)?.[1] ?? '';
      return open + [...kept, ...ports.map((p) => `    server 127.0.0.1:${p}${params};`)].join('\n') + close;
    });
  }
  return runSite(site);
}

async function runSite(shipped: string): Promise<RunningNginx> {
  if (!NGINX) throw new Error('nginx not installed (Debian package nginx)');
  const temp = makeTempDir('kansui-nginx-');
  const dir = temp.dir;
  const port = await getFreePort();
  const site = shipped
    .replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`)
    .replace('/var/cache/nginx/kansui', join(dir, 'cache'));
  writeFileSync(join(dir, 'kansui.conf'), site);
  for (const d of ['cache', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const main = join(dir, 'nginx.conf');
  writeFileSync(
    main,
    [
      // As root, workers would drop to `nobody` and could not use the temp dir.
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, 'tmp', t)};`),
      `  include ${join(dir, 'kansui.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', main], { encoding: 'utf8' });
  if (check.status !== 0) {
    temp.remove();
    throw new Error(`nginx -t failed: ${check.stderr}`);
  }
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', main], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
        return fetch(`${url}/healthz`).then((r) => r.status !== 502 && r.status !== 504, () => false);
      },
      { timeoutMs: 30_000, what: 'nginx to proxy /healthz' },
    );
  } catch (err) {
    child.kill('SIGKILL');
    temp.remove();
    throw err;
  }
  return {
    url,
    port,
    dir,
    checked: { status: check.status, stderr: check.stderr },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT'); // graceful; open streams are closed by then
        await exited;
      }
      temp.remove();
    },
  };
}
