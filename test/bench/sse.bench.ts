import mqtt from 'mqtt';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { registerSimSensors, type CredentialLine } from '../../firmware-sim/credentials.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { NGINX } from '../helpers/nginx.ts';
import { getFreePort } from '../helpers/ports.ts';
import { buildIfStale } from '../helpers/process.ts';
import { startRoleProcess, type RoleProcess } from '../helpers/role-process.ts';
import { waitFor } from '../helpers/wait.ts';
import { fmt, jsonLines, sleep, stopAll, stopChild, track } from './children.ts';
import { startService } from './service.ts';
import type { BenchModule, BenchRow } from './types.ts';

/**
 * SSE fan-out (issue 15): one reading to 10,000 viewers of one process, kansui against a bare
 * node:http SSE loop (the floor) in the same run, 3 rounds, alternating which goes first.
 * Viewers are raw sockets spread over READERS processes (test/bench/sse-reader.ts). Delivery
 * latency of a viewer = when its socket got the reading − just before the reading was sent
 * (kansui: the MQTT publish, so ingest and the SQLite commit are in it; the floor: the HTTP
 * request that makes it write). RSS per viewer = (process RSS after GC with the viewers − after
 * GC without) / viewers, GC run in the server by test/bench/gc-on-signal.mjs.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Viewers held by two web processes behind nginx (issue 15). */
const NGINX_VIEWERS = Number(process.env.BENCH_SSE_NGINX_VIEWERS ?? 20_000);
/**
 * Viewers in the failover run: the surviving web process must hold them all, and a process may
 * open at most `ulimit -n` files here (20,000, hard limit, not raisable in this container): 18,000
 * leaves room for its other descriptors. A production unit sets LimitNOFILE=65536.
 */
const FAILOVER_VIEWERS = Math.min(NGINX_VIEWERS, Number(process.env.BENCH_SSE_FAILOVER_VIEWERS ?? 18_000));
const VIEWERS = Number(process.env.BENCH_SSE_VIEWERS ?? 10_000);
const READERS = 3;
const ROUNDS = Number(process.env.BENCH_SSE_ROUNDS ?? 3);
const READINGS = 5;
const GC_PRELOAD = join(here, 'gc-on-signal.mjs');

const now = () => performance.timeOrigin + performance.now();
const log = (m: string) => process.stderr.write(`  sse: ${m}\n`);
const ms = (n: number) => `${Math.round(n)} ms`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function httpGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, (res) => res.resume().on('end', resolve)).on('error', reject).end();
  });
}

/** RSS and V8 heap used (bytes) of a process with the gc preload, right after a full GC. */
async function rssAfterGc(pid: number, file: string): Promise<{ rss: number; heap: number }> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [rss, heap] = existsSync(file) ? readFileSync(file, 'utf8').split(' ').map(Number) : [];
    if (rss! > 0) return { rss: rss!, heap: heap ?? NaN };
    if (Date.now() > deadline) throw new Error(`no RSS from ${pid} after GC`);
    await sleep(20);
  }
}

interface Reader {
  child: ChildProcess;
  lines: ReturnType<typeof jsonLines>;
  send(o: unknown): void;
}

function startReader(): Reader {
  const child = track(spawn(process.execPath, ['--import', 'tsx', join(here, 'sse-reader.ts')], { stdio: ['pipe', 'pipe', 'pipe'] }));
  return { child, lines: jsonLines(child), send: (o) => child.stdin?.write(JSON.stringify(o) + '\n') };
}

/**
 * Connect `total` viewers spread over the readers; reader i connects to `hosts[i]` (default all
 * 127.0.0.1). No source address is bound: a bound one gives a reader one 28,000-port range for
 * every destination, TIME_WAIT included, which ran out during the failover; unbound, the range is
 * per destination address, so the nginx run gives each reader its own listening address.
 */
export async function connectViewers(readers: Reader[], port: number, total: number, reconnect = false, hosts: readonly string[] = []): Promise<number> {
  const share = (i: number) => Math.floor(total / readers.length) + (i < total % readers.length ? 1 : 0);
  readers.forEach((r, i) => r.send({ cmd: 'connect', host: hosts[i] ?? '127.0.0.1', port, count: share(i), reconnect }));
  const answers = await Promise.all(readers.map((r) => r.lines.next((o) => 'connected' in o, 180_000, 'viewers connect')));
  const failed = answers.reduce((s, a) => s + Number(a.failed), 0);
  if (failed) throw new Error(`${failed} of ${total} viewers could not connect (last refusal: ${answers.map((a) => a.lastRefusal).filter(Boolean).join('; ')})`);
  return answers.reduce((s, a) => s + Number(a.connected), 0);
}

export async function closeViewers(readers: Reader[]): Promise<void> {
  for (const r of readers) r.send({ cmd: 'close' });
  await Promise.all(readers.map((r) => r.lines.next((o) => 'closed' in o, 30_000, 'viewers close')));
}

/** Wait until every open viewer has `level` (or the deadline); the latencies from t0, sorted, and how many never got it. */
export async function collect(readers: Reader[], level: number, t0: number, timeoutMs = 30_000): Promise<{ latencies: number[]; missing: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const r of readers) r.send({ cmd: 'count', level });
    const counts = await Promise.all(readers.map((r) => r.lines.next((o) => o.counted === level, 30_000, 'count')));
    if (counts.every((c) => Number(c.count) >= Number(c.open)) || Date.now() > deadline) break;
    await sleep(50);
  }
  for (const r of readers) r.send({ cmd: 'report', level });
  const reports = await Promise.all(readers.map((r) => r.lines.next((o) => o.level === level && 'times' in o, 30_000, 'report')));
  const latencies = reports.flatMap((r) => (r.times as number[]).map((t) => t - t0)).sort((a, b) => a - b);
  return { latencies, missing: reports.reduce((s, r) => s + Math.max(0, Number(r.missing)), 0) };
}

interface Side {
  name: string;
  pid: number;
  port: number;
  gcFile: string;
  fire(level: number): Promise<void>;
}

interface RoundResult {
  p50: number;
  p99: number;
  max: number;
  perViewerKb: number;
  heapPerViewerKb: number;
  missing: number;
}

async function measure(side: Side, readers: Reader[], levelBase: number): Promise<RoundResult> {
  const before = await rssAfterGc(side.pid, side.gcFile);
  const connected = await connectViewers(readers, side.port, VIEWERS);
  // Let the viewers' first bytes and the server's per-connection buffers settle before GC.
  await sleep(1000);
  const after = await rssAfterGc(side.pid, side.gcFile);
  const all: number[] = [];
  let missing = 0;
  for (let k = 0; k < READINGS; k++) {
    const level = levelBase + k;
    const t0 = now();
    await side.fire(level);
    const got = await collect(readers, level, t0);
    all.push(...got.latencies);
    missing += got.missing;
    await sleep(300);
  }
  await closeViewers(readers);
  await sleep(1000); // the server notices the closes
  all.sort((a, b) => a - b);
  const r = { p50: percentile(all, 50), p99: percentile(all, 99), max: all.at(-1) ?? NaN, perViewerKb: (after.rss - before.rss) / connected / 1024, heapPerViewerKb: (after.heap - before.heap) / connected / 1024, missing };
  log(`${side.name}: p50 ${ms(r.p50)} p99 ${ms(r.p99)} max ${ms(r.max)}, ${r.perViewerKb.toFixed(1)} KB RSS/viewer (V8 heap ${r.heapPerViewerKb.toFixed(1)} KB), missing ${missing}`);
  return r;
}

/**
 * Two web processes behind nginx (issue 15): Mosquitto + core + ingest + 2 web (the compiled
 * kansui, KANSUI_ROLE), nginx with a minimal config in front of the web pool carrying the
 * shipped /api/events settings (deploy/nginx/kansui-roles.conf: least_conn, max_fails=0,
 * unbuffered, HTTP/1.1 upstream, next upstream on error, 5 s connect timeout; keep them in step),
 * its connection limits raised for 2 × NGINX_VIEWERS sockets.
 * NGINX_VIEWERS viewers reconnect like EventSource (with Last-Event-ID); one web process is
 * SIGKILLed while readings keep coming, and every viewer must end up with every reading, once,
 * without a resync.
 */
async function behindNginx(dir: string, dataDir: string, cred: CredentialLine, readers: Reader[]): Promise<BenchRow[]> {
  buildIfStale(ROOT);
  const ingestUser = { username: 'kansui-ingest', password: 'bench-ingest-secret' };
  const mosq = await startMosquitto({ ingestUser, sensors: [cred.mqtt] });
  const roles: RoleProcess[] = [];
  let nginx: ChildProcess | undefined;
  try {
    const env = (name: string) => ({ DATA_DIR: dataDir, MQTT_URL: mosq.url, MQTT_USERNAME: ingestUser.username, MQTT_PASSWORD: ingestUser.password, MQTT_CLIENT_ID: `kansui-${name}`, LOG_LEVEL: 'warn' });
    const start = async (role: 'core' | 'ingest' | 'web', instance: string) => {
      const p = await startRoleProcess({ root: ROOT, role, instance, port: await getFreePort(), env: env(instance) });
      roles.push(p);
      return p;
    };
    await start('core', 'core-1');
    await start('ingest', 'ingest-1');
    const web1 = await start('web', 'web-1');
    const web2 = await start('web', 'web-2');

    if (!NGINX) throw new Error('nginx not installed (Debian package nginx)');
    const port = await getFreePort();
    const readerHosts = readers.map((_, i) => `127.0.0.${i + 2}`);
    for (const d of ['tmp']) mkdirSync(join(dir, d), { recursive: true });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, [
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'daemon off;', 'worker_processes 4;', `pid ${join(dir, 'nginx.pid')};`, `error_log ${join(dir, 'nginx-error.log')} error;`,
      // Each viewer is two connections in a worker (its own and the upstream one), and a worker may open at most
      // 20,000 files here: 4 workers × 19,000, reuseport letting the kernel spread new viewers evenly over them.
      'events { worker_connections 19000; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, 'tmp', t)};`),
      `  upstream kansui_web { least_conn; server 127.0.0.1:${web1.port} max_fails=0; server 127.0.0.1:${web2.port} max_fails=0; keepalive 64; }`,
      `  server { ${readerHosts.map((h) => `listen ${h}:${port} backlog=4096 reuseport;`).join(' ')}`,
      '    proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host;',
      '    proxy_next_upstream error timeout http_502 http_503; proxy_connect_timeout 5s;',
      '    location = /api/events { proxy_pass http://kansui_web; proxy_buffering off; proxy_cache off; proxy_read_timeout 1h; }',
      '    location / { proxy_pass http://kansui_web; }',
      '  }',
      '}',
    ].join('\n'));
    nginx = track(spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] }));
    await waitFor(() => fetch(`http://${readerHosts[0]}:${port}/healthz`).then((r) => r.ok, () => false), { timeoutMs: 30_000, what: 'nginx in front of the web pool' });

    const client = await mqtt.connectAsync(mosq.url, { username: cred.mqtt.username, password: cred.mqtt.password, clientId: 'sse-bench', protocolVersion: 4 });
    const publish = (level: number) => client.publishAsync('flood/sse-bench/reading', JSON.stringify({ ts: Date.now(), level_cm: level }), { qos: 1 });
    try {
      const connected = await connectViewers(readers, port, NGINX_VIEWERS, true, readerHosts);
      const held = [await web1.metric('kansui_sse_clients'), await web2.metric('kansui_sse_clients')];
      log(`behind nginx: ${connected} viewers, web processes hold ${held.join(' + ')}`);
      // One reading to all of them, 3 times.
      const p99s: number[] = [];
      const p50s: number[] = [];
      let missingBefore = 0;
      for (let k = 0; k < 3; k++) {
        const level = 500 + k;
        const t0 = now();
        await publish(level);
        const got = await collect(readers, level, t0, 60_000);
        p50s.push(percentile(got.latencies, 50));
        p99s.push(percentile(got.latencies, 99));
        missingBefore += got.missing;
        await sleep(300);
      }
      log(`behind nginx: p50 ${p50s.map(ms).join(', ')}; p99 ${p99s.map(ms).join(', ')}; missing ${missingBefore}`);
      await closeViewers(readers);
      await waitFor(async () => (await web1.metric('kansui_sse_clients')) + (await web2.metric('kansui_sse_clients')) === 0, { timeoutMs: 60_000, what: 'the web processes to see the viewers go' });
      const failoverViewers = await connectViewers(readers, port, FAILOVER_VIEWERS, true, readerHosts);

      // Kill one web process; readings keep coming while its viewers reconnect through nginx to the other.
      const killedAt = now();
      await web1.kill('SIGKILL');
      const levels = [600, 601, 602, 603, 604];
      for (const level of levels) {
        await publish(level);
        await sleep(300);
      }
      let stats: Record<string, unknown>[] = [];
      const readStats = async () => {
        for (const r of readers) r.send({ cmd: 'stats' });
        stats = await Promise.all(readers.map((r) => r.lines.next((o) => 'reconnects' in o, 30_000, 'stats')));
        return stats;
      };
      const total = (k: string) => stats.reduce((s, o) => s + Number(o[k]), 0);
      await waitFor(async () => (await readStats(), total('open') >= failoverViewers), { timeoutMs: 120_000, intervalMs: 500, what: () => `viewers back after the kill (${total('open')} of ${failoverViewers})` }).catch(() => undefined);
      const backAfterS = (now() - killedAt) / 1000;
      let missingAfter = 0;
      for (const level of levels) missingAfter += (await collect(readers, level, killedAt, 60_000)).missing;
      await readStats();
      const onSurvivor = await web2.metric('kansui_sse_clients');
      log(`after the kill: ${total('open')} open, ${onSurvivor} on web-2, ${total('reconnects')} reconnects, ${total('resyncs')} resyncs, ${total('duplicates')} duplicates, missing ${missingAfter}, back within ${backAfterS.toFixed(1)} s`);
      await closeViewers(readers);
      const ok = missingAfter === 0 && total('resyncs') === 0 && total('duplicates') === 0 && total('open') >= failoverViewers;
      return [
        { metric: `two web processes behind nginx hold ${fmt(NGINX_VIEWERS)} viewers (connected; each process's kansui_sse_clients)`, value: `${fmt(connected)} (${held.map(fmt).join(' + ')})`, target: `${fmt(NGINX_VIEWERS)}`, pass: connected >= NGINX_VIEWERS },
        { metric: `behind nginx, MQTT publish → ${fmt(NGINX_VIEWERS)} viewers, p50 / p99 (3 readings, median)`, value: `${ms(median(p50s))} / ${ms(median(p99s))} (missing ${missingBefore})` },
        {
          metric: `${fmt(failoverViewers)} viewers on two web processes, one SIGKILLed, ${levels.length} readings published while its viewers reconnect (Last-Event-ID, after the server's retry: 2–5 s, backing off like EventSource)`,
          value: `${fmt(total('reconnects'))} reconnect attempts through nginx to the other, ${fmt(total('open'))} of ${fmt(failoverViewers)} back after ${backAfterS.toFixed(1)} s; missed ${fmt(missingAfter)}, resyncs ${fmt(total('resyncs'))}, duplicates ${fmt(total('duplicates'))}`,
          target: 'none missed', pass: ok,
        },
      ];
    } finally {
      await client.endAsync().catch(() => undefined);
    }
  } catch (err) {
    const nginxLog = existsSync(join(dir, 'nginx-error.log')) ? readFileSync(join(dir, 'nginx-error.log'), 'utf8').split('\n').slice(-5).join('\n') : '';
    throw new Error(`${(err as Error).message}\nnginx: ${nginxLog}\n${roles.map((r) => `${r.instance} (${r.child.exitCode ?? r.child.signalCode ?? 'running'}): ${r.stderr().slice(-500)}`).join('\n')}`);
  } finally {
    if (nginx) await stopChild(nginx, 'SIGQUIT');
    for (const r of roles.reverse()) await r.kill('SIGTERM');
    await mosq.stop();
  }
}

export const bench: BenchModule = {
  key: 'sse',
  async run() {
    const temp = makeTempDir('kansui-bench-sse-');
    // 10,000–20,000 sockets per process (the readers, nginx, the surviving web process): raise the
    // open-file limit the children inherit (root may raise the hard limit; ulimit -n is 20,000 here).
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=65536:65536'], { stdio: 'ignore' });
    } catch {
      log('could not raise the open-file limit (prlimit); 20,000 viewers may not fit');
    }
    const readers: Reader[] = [];
    try {
      const dataDir = join(temp.dir, 'data');
      const [cred] = await registerSimSensors(dataDir, [{ id: 'sse-bench', name: 'SSE bench', lat: 34.27, lon: 135.4 }]);
      const nodeOptions = `--expose-gc --import=${GC_PRELOAD}`;

      // Fresh processes every round: RSS does not shrink after viewers leave, so a second
      // measurement in the same process would count memory the first left behind.
      const startSides = async () => {
        const floorGc = join(temp.dir, 'floor.rss');
        const floorChild = track(spawn(process.execPath, ['--import', 'tsx', join(here, 'sse-floor-server.ts')], {
          stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: nodeOptions, BENCH_GC_FILE: floorGc },
        }));
        const { port: floorPort } = (await jsonLines(floorChild).next((o) => typeof o.port === 'number', 30_000, 'floor server')) as { port: number };
        const floor: Side = { name: 'bare node:http', pid: floorChild.pid as number, port: floorPort, gcFile: floorGc, fire: (level) => httpGet(`http://127.0.0.1:${floorPort}/fire?level=${level}`) };
        const kansuiGc = join(temp.dir, 'kansui.rss');
        const service = await startService(dataDir, { NODE_OPTIONS: nodeOptions, BENCH_GC_FILE: kansuiGc });
        const client = await mqtt.connectAsync(service.url, { username: cred!.mqtt.username, password: cred!.mqtt.password, clientId: 'sse-bench', protocolVersion: 4 });
        const kansui: Side = {
          name: 'kansui', pid: service.pid, port: service.httpPort, gcFile: kansuiGc,
          fire: async (level) => void (await client.publishAsync('flood/sse-bench/reading', JSON.stringify({ ts: Date.now(), level_cm: level }), { qos: 1 })),
        };
        const stop = async () => {
          await client.endAsync();
          await service.stop();
          await stopChild(floorChild);
        };
        return { floor, kansui, stop };
      };

      for (let i = 0; i < READERS; i++) readers.push(startReader());
      const results: { floor: RoundResult; kansui: RoundResult }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        log(`round ${round + 1}`);
        const { floor, kansui, stop } = await startSides();
        const order = round % 2 === 0 ? [floor, kansui] : [kansui, floor];
        const r: Partial<{ floor: RoundResult; kansui: RoundResult }> = {};
        for (const side of order) r[side === floor ? 'floor' : 'kansui'] = await measure(side, readers, 100 + round * 20 + (side === floor ? 0 : 10));
        results.push(r as { floor: RoundResult; kansui: RoundResult });
        await stop();
      }

      let nginxRows: BenchRow[] = [];
      if (process.env.BENCH_SSE_NGINX !== '0') {
        log('two web processes behind nginx');
        nginxRows = await behindNginx(temp.dir, dataDir, cred!, readers);
      }

      const med = (side: 'floor' | 'kansui', k: keyof RoundResult) => median(results.map((r) => r[side][k]));
      const ratios = results.map((r) => r.kansui.p99 / r.floor.p99);
      const ratio = median(ratios);
      const perViewer = med('kansui', 'perViewerKb');
      const missing = results.reduce((s, r) => s + r.kansui.missing + r.floor.missing, 0);
      const rows: BenchRow[] = [
        { metric: `bare node:http SSE loop, one reading to ${fmt(VIEWERS)} viewers: p50 / p99 / last viewer (median of ${ROUNDS} rounds)`, value: `${ms(med('floor', 'p50'))} / ${ms(med('floor', 'p99'))} / ${ms(med('floor', 'max'))}` },
        { metric: `kansui, one process, MQTT publish → ${fmt(VIEWERS)} viewers: p50 / p99 / last viewer (median of ${ROUNDS} rounds)`, value: `${ms(med('kansui', 'p50'))} / ${ms(med('kansui', 'p99'))} / ${ms(med('kansui', 'max'))}` },
        { metric: 'kansui p99 ÷ floor p99 (median of the rounds\' ratios; each round\'s)', value: `${ratio.toFixed(2)}× (${ratios.map((x) => x.toFixed(2)).join(', ')})`, target: '≤ 2×', pass: ratio <= 2 },
        { metric: 'RSS per viewer after GC, kansui (floor); of which V8 heap', value: `${perViewer.toFixed(1)} KB (${med('floor', 'perViewerKb').toFixed(1)} KB); heap ${med('kansui', 'heapPerViewerKb').toFixed(1)} KB (${med('floor', 'heapPerViewerKb').toFixed(1)} KB)`, target: '≤ 12 KB', pass: perViewer <= 12 },
        { metric: 'viewers that missed a reading (all rounds, both sides)', value: fmt(missing), target: '0', pass: missing === 0 },
        ...nginxRows,
      ];
      return {
        key: 'sse',
        title: 'SSE fan-out: one reading to 10,000 viewers of one process (issue 15)',
        method: `${fmt(VIEWERS)} SSE viewers as raw sockets (HTTP/1.0 GET /api/events) over ${READERS} reader processes (test/bench/sse-reader.ts), against kansui as \`npm start\` runs it (single process, embedded broker, SQLite) and against a bare node:http SSE loop writing one shared Buffer to every response (test/bench/sse-floor-server.ts), ${ROUNDS} rounds alternating which goes first, ${READINGS} readings per round and side, 300 ms apart. A viewer's latency runs from just before the reading is sent (kansui: the MQTT QoS 1 publish, so ingest, the SQLite group commit and the hub are in it; floor: the HTTP request that makes it write) to its arrival on that viewer's socket; p50/p99 over all viewers and readings of a round. RSS per viewer: (server RSS after a forced GC with the viewers − without) ÷ viewers.`,
        rows,
        notes: [
          'The readers, the bench and the server share the same 2 cores, and other agents use the machine: the ratios in one run are what to compare, not the absolute times.',
          'Behind nginx every process (Mosquitto, core, ingest, 2 web, 4 nginx workers, 3 readers) shares the same 2 cores: the latency there is a correctness run under load, not a capacity figure.',
          `The failover run holds ${fmt(FAILOVER_VIEWERS)} viewers, not ${fmt(NGINX_VIEWERS)}: the surviving web process must hold all of them and a process here may open at most 20,000 files (hard limit, not raisable in this container); production units set LimitNOFILE=65536. A reconnect attempt that fails (nginx answering 502) is tried again after twice the wait, as EventSource does, so attempts above the number of viewers are failures.`,
          'RSS per viewer is the process RSS after a forced GC with the viewers minus without, divided by the viewers; it includes V8 heap pages a burst of 10,000 connects left committed, so the V8 heap figure is the part that is live objects.',
        ],
      };
    } finally {
      for (const r of readers) r.child.stdin?.end();
      await stopAll();
      temp.remove();
    }
  },
};
