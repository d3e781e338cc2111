import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './kansui.ts';
import { getFreePort } from './ports.ts';
import { waitFor } from './wait.ts';

export const INFLUXD = '/usr/bin/influxd';

/** The admin user of an influxd started with `authEnabled`. */
export const INFLUX_ADMIN = { username: 'kansui-admin', password: 'test-admin-password' } as const;

export interface RunningInfluxd {
  url: string;
  httpPort: number;
  dir: string;
  database: string;
  process: ChildProcess;
  /** InfluxQL through /query; returns the parsed JSON (throws on an HTTP or statement error). */
  query(q: string, db?: string): Promise<InfluxQueryResult>;
  /** All (sensor_id, time ms) points of measurement water_level, as "id@ms" strings. */
  pointKeys(): Promise<string[]>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same directory and ports (after kill or stop). */
  restart(): Promise<void>;
  /** SIGSTOP, resolved once the kernel reports the process stopped: it stays, its sockets accept but nothing answers. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kill (a test needs no graceful shutdown), wait, delete the temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface InfluxQueryResult {
  results: { statement_id: number; error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
}

/**
 * Debian's influxd 1.6 (1.x API only: /ping, /write, /query) on free
 * loopback ports with its own temp config and data directories, ready when
 * /ping answers, with `database` created. Both listeners are pinned to
 * 127.0.0.1: the HTTP API and the RPC bind-address (backup/restore, default
 * :8088), so parallel test files never collide (shared/NOTES.md).
 *
 * @example
 * const influx = await startInfluxd();
 * try { … } finally { await influx.stop(); }
 */
export async function startInfluxd(options: { database?: string; authEnabled?: boolean } = {}): Promise<RunningInfluxd> {
  // With auth on, the helper creates this admin first (1.x allows that one statement unauthenticated) and uses it.
  const auth = options.authEnabled ? `Basic ${Buffer.from(`${INFLUX_ADMIN.username}:${INFLUX_ADMIN.password}`).toString('base64')}` : undefined;
  const temp = makeTempDir('kansui-influxd-');
  const dir = temp.dir;
  const database = options.database ?? 'kansui';
  const httpPort = await getFreePort();
  const rpcPort = await getFreePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      // fsync the WAL on every write (the 1.x default, stated so the crash tests mean something).
      '  wal-fsync-delay = "0s"',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      `  auth-enabled = ${options.authEnabled ? 'true' : 'false'}`,
      '[monitor]',
      // No _internal database: less CPU on a shared 2-core machine.
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[logging]',
      '  level = "error"',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess;
  let stderr = '';

  async function launch(): Promise<void> {
    stderr = '';
    child = spawn(INFLUXD, ['run', '-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`influxd exited ${child.exitCode}: ${stderr}`);
        const res = await fetch(`${url}/ping`).catch(() => undefined);
        return res?.status === 204;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'influxd /ping' },
    );
  }

  async function query(q: string, db = database): Promise<InfluxQueryResult> {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db) params.set('db', db);
    const res = await fetch(`${url}/query`, { method: 'POST', body: params, headers: auth ? { Authorization: auth } : {} });
    const body = (await res.json()) as InfluxQueryResult & { error?: string };
    if (!res.ok || body.error) throw new Error(`influx query failed (${res.status}): ${body.error ?? JSON.stringify(body)}`);
    const failed = body.results.find((r) => r.error);
    if (failed) throw new Error(`influx statement failed: ${failed.error}`);
    return body;
  }

  async function waitExit(signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  await launch();
  if (auth) {
    const params = new URLSearchParams({ q: `CREATE USER "${INFLUX_ADMIN.username}" WITH PASSWORD '${INFLUX_ADMIN.password}' WITH ALL PRIVILEGES` });
    const res = await fetch(`${url}/query`, { method: 'POST', body: params });
    if (!res.ok) throw new Error(`influxd: creating the admin user failed: ${res.status} ${await res.text()}`);
  }
  await query(`CREATE DATABASE "${database}"`, '');
  let stopped = false;

  return {
    url,
    httpPort,
    dir,
    database,
    get process() {
      return child;
    },
    query,
    async pointKeys() {
      const r = await query('SELECT level_cm FROM water_level GROUP BY sensor_id');
      const keys: string[] = [];
      for (const s of r.results[0]?.series ?? []) {
        for (const row of s.values) keys.push(`${s.tags?.sensor_id}@${row[0]}`);
      }
      return keys;
    },
    kill: () => waitExit('SIGKILL'),
    restart: launch,
    async pause() {
      child.kill('SIGSTOP');
      // Each thread stops when it next leaves the kernel (one inside a disk write finishes it first), so a request
      // sent right after kill() could still be answered: wait until /proc shows every thread "T (stopped)".
      const stopped = () =>
        readdirSync(`/proc/${child.pid}/task`).every((t) => readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8').split(') ')[1]?.startsWith('T'));
      await waitFor(stopped, { what: 'influxd to stop', timeoutMs: 5_000, intervalMs: 5 });
    },
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT'); // a paused process would never handle SIGTERM
        await waitExit('SIGKILL');
      }
      temp.remove();
    },
  };
}
