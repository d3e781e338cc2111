import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { registerSimSensors } from '../../firmware-sim/credentials.ts';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { getFreePort } from '../helpers/ports.ts';
import { buildIfStale, npmScriptArgs } from '../helpers/process.ts';
import { children, fmt, jsonLines, sleep, stopChild, track } from './children.ts';
import { countIn, installNodeRed, NODE_RED_DIR, NODE_RED_PACKAGES, runBurst, settle, startNodeRed, startPlainMosquitto, TUNED_MOSQUITTO } from './peer.ts';
import { waitFor } from '../helpers/wait.ts';
import { runGenerators } from './pipeline.bench.ts';
import { metricValue } from './service.ts';
import type { BenchModule, BenchRow, BenchSection } from './types.ts';

/**
 * The ingest benchmark of issue 15 ("Speed", production path): kansui's
 * ingest workers (KANSUI_ROLE=ingest, the compiled dist/ as `npm start` runs
 * it) behind Debian's Mosquitto, against the floor of a bare mqtt.js QoS 1
 * subscriber draining the same backlog from the same broker; one worker
 * against two on one shared subscription; live publishers into influxd
 * against the Node-RED peer; and a worker SIGKILLed mid-stream.
 * Every party is its own process on loopback; this process orchestrates,
 * prepares the persistent sessions and reads /metrics and the stores.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
/** `npm start`'s node arguments, flags included, with the entry point made absolute (as test/bench/service.ts). */
const START = npmScriptArgs('start', root).map((a) => (/\.[jt]s$/.test(a) ? join(root, a) : a));
const DRAIN_SUBSCRIBER = join(root, 'test/bench/drain-subscriber.ts');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SENSORS = 1_000;
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 60_000);
/** Item 2's backlog: two workers against one. */
const TWO_BACKLOG = 2 * BACKLOG;
/** Item 4: readings published while one of two workers is SIGKILLed. */
const KILL_LIVE = Number(process.env.BENCH_KILL ?? 100_000);
const GENERATORS = 2;
/** Item 3: seconds the live publishers run (as fast as they go). */
const LIVE_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Only some items, for a quick look while developing (BENCH_INGEST_ITEMS=1,3). */
const ITEMS = process.env.BENCH_INGEST_ITEMS?.split(',').map(Number);
const want = (item: number) => !ITEMS || ITEMS.includes(item);

const log = (s: string) => process.stderr.write(`bench(ingest): ${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const list = (xs: number[], f: (x: number) => string = fmt) => xs.map(f).join(', ');
const ratio = (x: number) => `${x.toFixed(2)} ×`;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A persistent session (clean=false) with a QoS 1 subscription to `filter`,
 * left disconnected: the broker queues for `clientId` from now on. The
 * consumer that connects later under that id finds its backlog waiting.
 */
async function prepareSession(url: string, clientId: string, filter: string): Promise<void> {
  const c = mqtt.connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await c.endAsync(false);
}

interface Worker {
  readonly child: ChildProcess;
  port: number;
  /** When this process's external subscriber got its CONNACK (its log line, Date.now() clock). */
  connackAt(): Promise<number>;
  metric(name: string): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again with the same environment, port and client id (what systemd's Restart= does). */
  restart(): Promise<void>;
}

/**
 * One kansui ingest worker as deployed: `node dist/services/main.js` with
 * `npm start`'s flags, KANSUI_ROLE=ingest, its own HTTP port for /metrics.
 * LOG_LEVEL=debug only for the subscriber's 'connected' line (its pino time
 * is when the CONNACK arrived); nothing on the reading path logs at debug.
 */
async function startWorker(o: { mqttUrl: string; dataDir: string; clientId: string; instance: string; shareGroup?: string; env: Record<string, string> }): Promise<Worker> {
  const port = await getFreePort();
  const env = {
    ...process.env, ...o.env,
    KANSUI_ROLE: 'ingest', KANSUI_INSTANCE: o.instance, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), DATA_DIR: o.dataDir,
    MQTT_URL: o.mqttUrl, MQTT_CLIENT_ID: o.clientId, LOG_LEVEL: 'debug',
    ...(o.shareGroup && { MQTT_SHARE_GROUP: o.shareGroup }),
  };
  let child!: ChildProcess;
  let connack!: Promise<number>;
  const launch = async () => {
    // BENCH_WORKER_NODE_ARGS: extra node flags for the workers while developing (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
    child = track(spawn(process.execPath, [...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...START], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    const lines = jsonLines(child);
    connack = lines.next((l) => l.msg === 'mqtt' && l.event === 'connected', 120_000, `kansui ingest ${o.instance} CONNACK`).then((l) => Date.parse(String(l.time)));
    connack.catch(() => {});
  };
  await launch();
  return {
    get child() {
      return child;
    },
    port,
    connackAt: () => connack,
    metric: (name) => metricValue(port, name),
    kill: (signal = 'SIGTERM') => stopChild(child, signal),
    async restart() {
      await launch();
      await connack;
    },
  };
}

/**
 * Wait until `read()` reaches `target` and return when it did (Date.now()).
 * Polls every 100 ms while far off and every 10 ms once the last rate says
 * less than half a second is left, so the end is known to ~10 ms without
 * scraping a worker's /metrics 100 times a second throughout.
 */
async function whenReached(read: () => Promise<number>, target: number, what: string, stallMs = 30_000): Promise<number> {
  let prev = { t: Date.now(), v: 0 };
  let lastGrowth = Date.now();
  for (;;) {
    const v = await read();
    const t = Date.now();
    if (v >= target) return t;
    if (v > prev.v) lastGrowth = t;
    if (t - lastGrowth > stallMs) throw new Error(`${what}: stuck at ${fmt(v)} of ${fmt(target)} for ${stallMs / 1000} s`);
    const rate = (v - prev.v) / Math.max(1, t - prev.t);
    prev = { t, v };
    await sleep(rate > 0 && (target - v) / rate < 500 ? 10 : 100);
  }
}

/**
 * The floor: a bare QoS 1 subscriber (own process) drains its session's backlog, mqtt.js (`drain`) or kansui's
 * own MQTT code with nothing behind it (`drain-lean`, test/bench/drain-subscriber.ts).
 */
async function drainBare(url: string, clientId: string, filter: string, n: number, mode: 'drain' | 'drain-lean' = 'drain'): Promise<DrainResult> {
  const child = track(spawn(process.execPath, ['--import', 'tsx', DRAIN_SUBSCRIBER, mode, url, clientId, filter, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out = jsonLines(child);
  const connack = await out.next((l) => l.event === 'connack', 60_000, 'bare subscriber CONNACK');
  const cpu0 = cpuSeconds(child.pid as number);
  const done = await out.next((l) => l.event === 'done', 300_000, 'bare subscriber drain');
  const cpu = cpuSeconds(child.pid as number) - cpu0;
  await stopChild(child);
  const ms = Number(done.at) - Number(connack.at);
  return { ms, perS: (n * 1000) / ms, cpuUs: (cpu * 1e6) / n };
}

interface DrainResult {
  ms: number;
  perS: number;
  /** Consumer CPU per reading over the drain (µs), all its processes' CPU summed. */
  cpuUs: number;
}

/** A fresh DATA_DIR holding the registered sensors (a copy of the template's kansui.db). */
function freshDataDir(template: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(template, 'kansui.db'), join(dir, 'kansui.db'));
  return dir;
}

/** kansui ingest workers (one or more, own processes) drain their sessions' backlog of `n` into the store. */
async function drainKansui(workers: Promise<Worker>[], n: number, what: string, brokerPid?: number): Promise<DrainResult & { workers: Worker[]; spreadMs: number; brokerBusy: number }> {
  const ws = await Promise.all(workers);
  const connacks = await Promise.all(ws.map((w) => w.connackAt()));
  const cpu0 = ws.map((w) => cpuSeconds(w.child.pid as number));
  const brokerCpu0 = brokerPid === undefined ? 0 : cpuSeconds(brokerPid);
  const brokerAt0 = Date.now();
  const t0 = Math.min(...connacks);
  // Its HTTP port opens a moment after the subscriber connects: until then it counts as 0.
  const sum = async () => (await Promise.all(ws.map((w) => w.metric('kansui_readings_accepted_total').catch(() => 0)))).reduce((a, b) => a + b, 0);
  const end = await whenReached(sum, n, what);
  const cpu = ws.reduce((s, w, i) => s + cpuSeconds(w.child.pid as number) - (cpu0[i] as number), 0);
  const ms = end - t0;
  // The broker's CPU over the drain as a share of one core (Mosquitto is single-threaded): near 1, it is the limit.
  const brokerBusy = brokerPid === undefined ? NaN : (cpuSeconds(brokerPid) - brokerCpu0) / ((Date.now() - brokerAt0) / 1000);
  return { ms, perS: (n * 1000) / ms, cpuUs: (cpu * 1e6) / n, workers: ws, spreadMs: Math.max(...connacks) - t0, brokerBusy };
}

function sqliteCount(dataDir: string): number {
  const db = new Database(join(dataDir, 'readings.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function influxCount(influx: RunningInfluxd, db: string): Promise<number> {
  const r = await influx.query('SELECT COUNT(level_cm) FROM water_level', db);
  return (r.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

export const bench: BenchModule = {
  key: 'ingest',
  async run(): Promise<BenchSection> {
    const temp = makeTempDir('kansui-bench-ingest-');
    const load0 = loadavg()[0] ?? 0;
    let influx: RunningInfluxd | undefined;
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    try {
      buildIfStale(root); // npm start's prestart (issue 15)
      const template = join(temp.dir, 'template');
      const creds = await registerSimSensors(
        template,
        Array.from({ length: SENSORS }, (_, i) => ({ id: `sim-${String(i).padStart(4, '0')}`, name: `bench ${i}`, lat: 34.27, lon: 135.4 })),
      );
      if (!existsSync(join(template, 'kansui.db'))) throw new Error('registerSimSensors wrote no kansui.db');
      const credentials = join(temp.dir, 'creds.jsonl');
      writeFileSync(credentials, creds.map((c) => JSON.stringify(c)).join('\n') + '\n');
      influx = await startInfluxd();
      const inf = influx;
      const storeEnv = (store: 'sqlite' | 'influx', db: string): Record<string, string> =>
        store === 'sqlite' ? { STORE: 'sqlite' } : { STORE: 'influx', INFLUX_URL: inf.url, INFLUX_DATABASE: db };

      // 1. Drain: one backlog per round queued for each consumer's own persistent session, drained one consumer at a time.
      const floor: DrainResult[] = [];
      const leanFloor: DrainResult[] = [];
      const sqlite: DrainResult[] = [];
      const influxDrain: DrainResult[] = [];
      const verify: string[] = [];
      for (let r = 1; want(1) && r <= ROUNDS; r++) {
        const mosq = await startPlainMosquitto(temp.dir, true);
        const ids = { floor: `floor-r${r}`, lean: `lean-r${r}`, sqlite: `kansui-sq-r${r}`, influx: `kansui-ix-r${r}` };
        for (const id of Object.values(ids)) await prepareSession(mosq.url, id, 'flood/+/reading');
        const burst = await runBurst(mosq.url, credentials, BACKLOG, GENERATORS);
        if (burst.acked !== BACKLOG) throw new Error(`round ${r}: Mosquitto acknowledged ${burst.acked} of ${BACKLOG}`);
        log(`round ${r}: ${fmt(BACKLOG)} queued for each of 4 sessions in ${burst.publishS.toFixed(1)} s`);
        // Rotate the order so no consumer always goes first (a warmer or cooler machine).
        const order = (['floor', 'sqlite', 'lean', 'influx'] as const).map((_, i, a) => a[(i + r - 1) % a.length] as 'floor' | 'lean' | 'sqlite' | 'influx');
        for (const which of order) {
          if (which === 'floor' || which === 'lean') {
            const d = await drainBare(mosq.url, ids[which], 'flood/+/reading', BACKLOG, which === 'floor' ? 'drain' : 'drain-lean');
            (which === 'floor' ? floor : leanFloor).push(d);
            log(`round ${r}: bare ${which === 'floor' ? 'mqtt.js' : 'lean'} ${fmt(d.perS)}/s (${d.ms} ms)`);
            continue;
          }
          const db = `drain_r${r}`;
          if (which === 'influx') await inf.query(`CREATE DATABASE ${db}`, '');
          const dataDir = freshDataDir(template, join(temp.dir, `${which}-r${r}`));
          const d = await drainKansui([startWorker({ mqttUrl: mosq.url, dataDir, clientId: ids[which], instance: `${which}-r${r}`, env: storeEnv(which, db) })], BACKLOG, `kansui ${which} drain`);
          const w = d.workers[0] as Worker;
          const spool = which === 'influx' ? await w.metric('kansui_store_spool_readings') : 0;
          await w.kill();
          const stored = which === 'sqlite' ? sqliteCount(dataDir) : await influxCount(inf, db);
          if (stored !== BACKLOG || spool !== 0) verify.push(`round ${r} ${which}: ${fmt(stored)} stored of ${fmt(BACKLOG)}, spool ${spool}`);
          (which === 'sqlite' ? sqlite : influxDrain).push(d);
          log(`round ${r}: kansui ${which} ${fmt(d.perS)}/s (${d.ms} ms), ${fmt(stored)} in the store`);
        }
        await stopChild(mosq.child);
      }
      const perRound = (xs: DrainResult[]) => xs.map((x, i) => x.perS / (floor[i] as DrainResult).perS);
      const rSqlite = perRound(sqlite);
      const rInflux = perRound(influxDrain);
      const rates = (xs: DrainResult[]) => `${fmt(median(xs.map((x) => x.perS)))} readings/s (rounds: ${list(xs.map((x) => x.perS))}); ${median(xs.map((x) => x.cpuUs)).toFixed(1)} µs CPU per reading`;
      if (want(1)) rows.push(
        { metric: `drain of ${fmt(BACKLOG)} queued QoS 1 readings: bare mqtt.js subscriber (the floor)`, value: rates(floor) },
        { metric: '… bare subscriber on kansui\'s own MQTT code (services/broker/mqtt-wire.ts), nothing behind it', value: rates(leanFloor) },
        { metric: '… one kansui ingest worker, SQLite store', value: rates(sqlite) },
        { metric: '… one kansui ingest worker, STORE=influx (influxd 1.6)', value: rates(influxDrain) },
        { metric: 'kansui (SQLite) ÷ floor, median of the per-round ratios', value: `${ratio(median(rSqlite))} (rounds: ${list(rSqlite, ratio)})`, target: '≥ 0.8 ×', pass: median(rSqlite) >= 0.8 },
        { metric: 'kansui (InfluxDB) ÷ floor, median of the per-round ratios', value: `${ratio(median(rInflux))} (rounds: ${list(rInflux, ratio)})`, target: '≥ 0.8 ×', pass: median(rInflux) >= 0.8 },
      );

      // 2. Two workers against one: each configuration its own shared-subscription group (one member, or two), so one
      // publish queues TWO_BACKLOG for the single member and half each for the two; drained one configuration at a time.
      const stores = ['sqlite', 'influx'] as const;
      type ScaleResult = DrainResult & { spreadMs: number; brokerBusy: number };
      const scale: Record<(typeof stores)[number], { one: ScaleResult[]; two: ScaleResult[] }> = { sqlite: { one: [], two: [] }, influx: { one: [], two: [] } };
      for (let r = 1; want(2) && r <= ROUNDS; r++) {
        const mosq = await startPlainMosquitto(temp.dir, true);
        const group = (store: string, n: number) => `${n === 1 ? 'one' : 'two'}-${store}-r${r}`;
        const filter = (g: string) => `$share/${g}/flood/+/reading`;
        for (const store of stores) {
          await prepareSession(mosq.url, `k1-${store}-r${r}`, filter(group(store, 1)));
          for (const m of ['a', 'b']) await prepareSession(mosq.url, `k2${m}-${store}-r${r}`, filter(group(store, 2)));
        }
        const burst = await runBurst(mosq.url, credentials, TWO_BACKLOG, GENERATORS);
        if (burst.acked !== TWO_BACKLOG) throw new Error(`round ${r}: Mosquitto acknowledged ${burst.acked} of ${TWO_BACKLOG}`);
        log(`round ${r}: ${fmt(TWO_BACKLOG)} queued for each of ${stores.length * 2} groups in ${burst.publishS.toFixed(1)} s`);
        const runs = stores.flatMap((store) => [1, 2].map((n) => ({ store, n })));
        for (let i = 0; i < runs.length; i++) {
          const { store, n } = runs[(i + r - 1) % runs.length] as { store: (typeof stores)[number]; n: number };
          const db = `scale_${store}_${n}_r${r}`;
          if (store === 'influx') await inf.query(`CREATE DATABASE ${db}`, '');
          // Two workers on one machine share its DATA_DIR (readings.db for SQLite), as the roles do.
          const dataDir = freshDataDir(template, join(temp.dir, db));
          const ids = n === 1 ? [`k1-${store}-r${r}`] : [`k2a-${store}-r${r}`, `k2b-${store}-r${r}`];
          const d = await drainKansui(
            ids.map((clientId, j) => startWorker({ mqttUrl: mosq.url, dataDir, clientId, instance: `${db}-${j}`, shareGroup: group(store, n), env: storeEnv(store, db) })),
            TWO_BACKLOG,
            `${n} worker(s) ${store}`,
            mosq.child.pid,
          );
          await Promise.all(d.workers.map((w) => w.kill()));
          const stored = store === 'sqlite' ? sqliteCount(dataDir) : await influxCount(inf, db);
          if (stored !== TWO_BACKLOG) verify.push(`round ${r} ${n} worker(s) ${store}: ${fmt(stored)} stored of ${fmt(TWO_BACKLOG)}`);
          if (n === 1) scale[store].one.push(d);
          else scale[store].two.push(d);
          log(`round ${r}: ${n} worker(s) ${store} ${fmt(d.perS)}/s (${d.ms} ms), ${fmt(stored)} in the store`);
        }
        await stopChild(mosq.child);
      }
      const busy = (xs: ScaleResult[]) => list(xs.map((x) => x.brokerBusy), (v) => `${Math.round(v * 100)} %`);
      for (const store of want(2) ? stores : []) {
        const { one, two } = scale[store];
        const gain = two.map((x, i) => x.perS / (one[i] as DrainResult).perS);
        const name = store === 'sqlite' ? 'SQLite (one readings.db)' : 'STORE=influx';
        rows.push(
          { metric: `drain of ${fmt(TWO_BACKLOG)} queued readings, one worker (a shared subscription of one), ${name}`, value: `${rates(one)}; Mosquitto busy ${busy(one)} of one core` },
          { metric: `… two workers on one shared subscription (MQTT_SHARE_GROUP), ${name}`, value: `${rates(two)}; Mosquitto busy ${busy(two)} of one core; the second CONNACK ${list(two.map((x) => x.spreadMs))} ms after the first` },
          { metric: `… two ÷ one, ${name}`, value: `${ratio(median(gain))} (rounds: ${list(gain, ratio)})`, target: '> 1 × where the cores allow', pass: median(gain) > 1 },
        );
      }

      // 3. Live: publishers into Mosquitto while the consumer takes them, kansui (one worker) and the Node-RED peer
      // each on its own turn on the same broker, into the same influxd (own databases); the order alternates per round.
      if (want(3) && process.env.BENCH_NODE_RED !== '0') {
        installNodeRed();
        type LiveRun = { perS: number; acked: number; stored: number; publishS: number; cores: { mosquitto: number; consumer: number; influxd: number } };
        const live: Record<'kansui' | 'node-red', LiveRun[]> = { kansui: [], 'node-red': [] };
        for (let r = 1; r <= ROUNDS; r++) {
          const mosq = await startPlainMosquitto(temp.dir, true);
          const sides = r % 2 ? (['kansui', 'node-red'] as const) : (['node-red', 'kansui'] as const);
          for (const side of sides) {
            const db = `live_${side === 'kansui' ? 'kansui' : 'nodered'}_r${r}`;
            await inf.query(`CREATE DATABASE ${db}`, '');
            const clientId = `live-k-r${r}`;
            let stop: () => Promise<void>;
            let consumerPid: number;
            if (side === 'kansui') {
              const w = await startWorker({ mqttUrl: mosq.url, dataDir: freshDataDir(template, join(temp.dir, db)), clientId, instance: db, env: storeEnv('influx', db) });
              await w.connackAt();
              // Subscribed and serving once /healthz says so (its HTTP port opens after the subscription is made).
              await waitFor(() => fetch(`http://127.0.0.1:${w.port}/healthz`).then((x) => x.ok, () => false), { timeoutMs: 60_000, what: 'live worker healthy' });
              consumerPid = w.child.pid as number;
              stop = async () => {
                await w.kill();
                // Its persistent session would queue the peer's turn too: end it (clean session, same id).
                const c = await mqtt.connectAsync(mosq.url, { clientId, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
                await c.endAsync();
              };
            } else {
              const child = await startNodeRed(temp.dir, mosq.port, inf, db);
              consumerPid = child.pid as number;
              stop = () => stopChild(child);
            }
            // CPU of the three parties from the go to the last stored point, in cores: who limits the run.
            const pids = { mosquitto: mosq.child.pid as number, consumer: consumerPid, influxd: inf.process.pid as number };
            const cpuNow = () => Object.fromEntries(Object.entries(pids).map(([k2, pid]) => [k2, cpuSeconds(pid)])) as LiveRun['cores'];
            let cpu0 = cpuNow();
            const run = await runGenerators({ url: mosq.url, credentials, sensors: SENSORS, rate: 0, seconds: LIVE_SECONDS, generators: GENERATORS, onGo: () => (cpu0 = cpuNow()) });
            const b = { acked: run.results.reduce((s, x) => s + (x.acked ?? 0), 0), goAt: run.goAt, publishS: Math.max(...run.results.map((x) => x.elapsedS ?? NaN)) };
            const settled = await settle(() => countIn(inf, db, 'sim-'), b.acked, 10_000, 300_000, 250);
            const cpu1 = cpuNow();
            const spanS = (performance.now() - b.goAt) / 1000;
            const cores = { mosquitto: (cpu1.mosquitto - cpu0.mosquitto) / spanS, consumer: (cpu1.consumer - cpu0.consumer) / spanS, influxd: (cpu1.influxd - cpu0.influxd) / spanS };
            await stop();
            const perS = settled.value / ((settled.lastGrowthAt - b.goAt) / 1000);
            live[side].push({ perS, acked: b.acked, stored: settled.value, publishS: b.publishS, cores });
            log(`round ${r}: live ${side} ${fmt(perS)}/s into InfluxDB, ${fmt(settled.value)} of ${fmt(b.acked)} (publishers done in ${b.publishS.toFixed(1)} s)`);
          }
          await stopChild(mosq.child);
        }
        const k = live.kansui;
        const n = live['node-red'];
        const gain = k.map((x, i) => x.perS / (n[i] as { perS: number }).perS);
        const core = (xs: typeof k, key: keyof LiveRun['cores']) => median(xs.map((x) => x.cores[key])).toFixed(2);
        const liveRate = (xs: typeof k) =>
          `${fmt(median(xs.map((x) => x.perS)))} readings/s into InfluxDB (rounds: ${list(xs.map((x) => x.perS))}; Mosquitto acknowledged the publishers ${list(xs.map((x) => x.acked / x.publishS))}/s); ` +
          `CPU in cores, medians: the consumer ${core(xs, 'consumer')}, Mosquitto ${core(xs, 'mosquitto')}, influxd ${core(xs, 'influxd')}`;
        const lost = (xs: typeof k) => xs.map((x) => x.acked - x.stored);
        rows.push(
          { metric: `live: ${fmt(SENSORS)} sensors publish QoS 1 readings as fast as they go for ${LIVE_SECONDS} s → Mosquitto → one kansui ingest worker → influxd`, value: liveRate(k) },
          { metric: '… same, the Node-RED peer (mqtt in → join 1,000 msgs or 0.5 s → influxdb batch)', value: liveRate(n) },
          { metric: '… kansui ÷ Node-RED, median of the per-round ratios', value: `${ratio(median(gain))} (rounds: ${list(gain, ratio)})`, target: '≥ 1.5 ×', pass: median(gain) >= 1.5 },
          { metric: '… lost, kansui (acknowledged by Mosquitto − in InfluxDB), per round', value: list(lost(k)), target: '0', pass: lost(k).every((x) => x === 0) },
          { metric: '… lost, Node-RED peer, per round', value: list(lost(n)) },
        );
        notes.push(`Live: ${GENERATORS} publisher processes (\`firmware-sim/cli.ts --rate 0 --client lean\`: a minimal QoS 1 publisher, one connection per sensor, 8 in flight each; mqtt.js publishers topped out near 15,000/s here, below both consumers, so they would have measured themselves) publish for ${LIVE_SECONDS} s while the consumer is connected; rate = points in InfluxDB ÷ time from the start of publishing to the last new point (COUNT polled every 250 ms). Where a consumer's rate is close to the rate Mosquitto acknowledged the publishers at, the publishers (sharing the two cores) are the limit and its ratio is a lower bound. Node-RED ${NODE_RED_PACKAGES.join(', ')} (installed with npm into ${NODE_RED_DIR}, never a project dependency), clean session, same Mosquitto config.`);
      } else {
        notes.push('Live comparison with Node-RED skipped (BENCH_NODE_RED=0).');
      }

      // 4. SIGKILL: two workers on one shared subscription into InfluxDB, live publishers; one worker SIGKILLed mid-stream
      // and restarted under its own client id (its persistent session kept its share meanwhile).
      if (want(4)) {
        const mosq = await startPlainMosquitto(temp.dir, true);
        const db = 'sigkill';
        await inf.query(`CREATE DATABASE ${db}`, '');
        const dataDir = freshDataDir(template, join(temp.dir, db));
        const [w1, w2] = (await Promise.all([1, 2].map((i) => startWorker({ mqttUrl: mosq.url, dataDir, clientId: `kansui-ingest-${i}`, instance: `ingest-${i}`, shareGroup: 'kansui', env: storeEnv('influx', db) })))) as [Worker, Worker];
        await Promise.all([w1, w2].map((w) => w.connackAt()));
        await waitFor(async () => (await Promise.all([w1, w2].map((w) => fetch(`http://127.0.0.1:${w.port}/healthz`).then((x) => x.ok, () => false)))).every(Boolean), { timeoutMs: 60_000, what: 'both workers healthy' });
        let publishing = true;
        const burst = runBurst(mosq.url, credentials, KILL_LIVE, GENERATORS).finally(() => (publishing = false));
        const killAfter = Math.round(KILL_LIVE / 10);
        await waitFor(async () => (await w1.metric('kansui_readings_accepted_total').catch(() => 0)) >= killAfter, { timeoutMs: 120_000, intervalMs: 50, what: `worker 1 to store ${killAfter} readings` });
        const acceptedBefore = await w1.metric('kansui_readings_accepted_total');
        const whilePublishing = publishing;
        const killedAt = Date.now();
        await w1.kill('SIGKILL');
        await w1.restart();
        const restartMs = Date.now() - killedAt;
        const b = await burst;
        const settled = await settle(() => countIn(inf, db, 'sim-'), b.acked, 15_000, 180_000);
        const keys = new Set<string>();
        let points = 0;
        const q = await inf.query('SELECT level_cm FROM water_level GROUP BY sensor_id', db);
        for (const series of q.results[0]?.series ?? []) {
          for (const row of series.values) {
            points++;
            keys.add(`${series.tags?.sensor_id}@${row[0]}`);
          }
        }
        await Promise.all([w1, w2].map((w) => w.kill()));
        await stopChild(mosq.child);
        notes.push('SIGKILL: InfluxDB keeps one point per (series, time), so a reading redelivered after the kill and written again overwrites itself; "each once" is the count of points equal to the number published, every (sensor, time) distinct.');
        log(`sigkill: ${fmt(points)} points (${fmt(keys.size)} distinct) of ${fmt(b.acked)} acknowledged`);
        rows.push({
          metric: `SIGKILL: two workers (MQTT_SHARE_GROUP=kansui, STORE=influx), ${fmt(KILL_LIVE)} readings published live; worker 1 SIGKILLed after storing ${fmt(acceptedBefore)}${whilePublishing ? ' while the publishers ran' : ' (the publishers had finished; its backlog was still draining)'}, restarted under its client id (healthy again after ${fmt(restartMs)} ms)`,
          value: `${fmt(points)} points in InfluxDB, ${fmt(keys.size)} distinct (sensor, time), of ${fmt(b.acked)} acknowledged by Mosquitto: ${fmt(b.acked - keys.size)} lost`,
          target: '0 lost, each once',
          pass: keys.size === b.acked && points === keys.size && settled.value === b.acked,
        });
      }

      rows.push({ metric: 'every drained reading in the store, every run above (count in readings.db / InfluxDB)', value: verify.length ? verify.join('; ') : 'yes', target: 'all', pass: verify.length === 0 });
      const load1 = loadavg()[0] ?? 0;
      notes.unshift(`Load average (1 min) ${load0.toFixed(2)} at the start and ${load1.toFixed(2)} at the end: two cores shared by Mosquitto, the consumers, influxd, the publishers and other engineers' work.`);
      return {
        key: 'ingest',
        title: 'Ingest workers behind Mosquitto: backlog drain, one and two workers, live against Node-RED, SIGKILL (issue 15)',
        method: [
          `Every party is its own process on loopback. Broker: Debian's Mosquitto 2.0, fresh for each round, anonymous clients without ACL (a private broker on loopback, so the publishers need no provisioning; production uses dynamic security), no persistence file, ${TUNED_MOSQUITTO.join(', ')}.`,
          `kansui: the compiled \`dist/\` started as \`npm start\` does (\`node ${npmScriptArgs('start', root).join(' ')}\`, after \`npm run build\`) with KANSUI_ROLE=ingest, MQTT_URL, its own MQTT_CLIENT_ID (a persistent session), DATA_DIR holding ${fmt(SENSORS)} registered sensors, STORE=sqlite or STORE=influx.`,
          `Drain: for each consumer a persistent session (clean=false) subscribed at QoS 1 to \`flood/+/reading\` is created and left disconnected; ${GENERATORS} publisher processes (test/bench/burst-publisher.ts, mqtt.js, one connection per sensor, QoS 1, 8 in flight each) publish exactly ${fmt(BACKLOG)} readings, which Mosquitto queues for every session; then the consumers connect one at a time (the order rotates per round) and drain their own copy.`,
          `The time runs from the consumer's CONNACK (the bare subscriber's 'connect' event; the worker's subscriber log line) to its last reading: the bare subscriber's ${fmt(BACKLOG)}th message, the worker's \`kansui_readings_accepted_total\` reaching ${fmt(BACKLOG)} (a reading counts once its batch is committed and announced on the bus, which is also when its PUBACK leaves; polled every 10 ms near the end).`,
          `The floor is test/bench/drain-subscriber.ts: mqtt.js 5.16 in its own process, PUBACK on receipt, nothing else (the issue's reference). The same file's \`drain-lean\` mode is the floor of the client kansui's ingest now uses (its own MQTT 3.1.1 code, services/broker/mqtt-wire.ts), PUBACKs on receipt, one write per socket read. The worker does more than either: it validates, commits, publishes each commit on the bus (kansui/events/…, QoS 1, through the same Mosquitto) and only then acknowledges. ${ROUNDS} rounds; medians reported with every round.`,
        ].join(' '),
        rows,
        notes,
      };
    } finally {
      await Promise.all([...children].map((c) => stopChild(c, 'SIGKILL')));
      await influx?.stop();
      temp.remove();
    }
  },
};
