import { spawn, type ChildProcess } from 'node:child_process';
import { npmScriptArgs } from './process.ts';
import { waitFor } from './wait.ts';

export type KansuiRole = 'all' | 'core' | 'ingest' | 'web';

export interface RoleProcess {
  role: KansuiRole;
  instance: string;
  port: number;
  /** http://127.0.0.1:<port>: this process's own /healthz and /metrics. */
  url: string;
  readonly child: ChildProcess;
  /** The last 8 KB of stderr (for failure messages). */
  stderr(): string;
  /** Send `signal` and wait for the exit (SIGKILL: no shutdown at all). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again with the same environment, port and instance (what systemd's Restart= does). */
  restart(): Promise<void>;
  /** One metric's value summed over its label sets (0 when absent). */
  metric(name: string): Promise<number>;
}

/**
 * The compiled kansui (dist/, started with `npm start`'s node flags) in one
 * role (issue 15: KANSUI_ROLE), on a loopback port, ready once its own
 * /healthz answers 200. Build first (buildIfStale). `env` is the whole kansui
 * environment besides the role, instance and port.
 */
export async function startRoleProcess(options: {
  root: string;
  role: KansuiRole;
  instance: string;
  port: number;
  env: Record<string, string>;
  /** Deadline to be healthy (default 60 s: a loaded 2-core machine). */
  readyMs?: number;
}): Promise<RoleProcess> {
  const { root, role, instance, port } = options;
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ...options.env, KANSUI_ROLE: role, KANSUI_INSTANCE: instance, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) };
  let child: ChildProcess;
  let err = '';

  async function launch(): Promise<void> {
    err = '';
    child = spawn(process.execPath, npmScriptArgs('start', root), { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d) => {
      err = (err + d).slice(-8192);
    });
    await waitFor(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`kansui ${role} ${instance} exited (${child.exitCode ?? child.signalCode}): ${err}`);
        return fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
      },
      { timeoutMs: options.readyMs ?? 60_000, intervalMs: 50, what: () => `kansui ${role} ${instance} to be healthy on ${url}; stderr: ${err}` },
    );
  }

  await launch();
  return {
    role,
    instance,
    port,
    url,
    get child() {
      return child;
    },
    stderr: () => err,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    restart: launch,
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      let sum = 0;
      for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
      return sum;
    },
  };
}
