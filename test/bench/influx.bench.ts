import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerSimSensors } from '../../firmware-sim/credentials.ts';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { getFreePort } from '../helpers/ports.ts';
import type { BenchModule, BenchRow, BenchSection } from './types.ts';

/**
 * The InfluxDB benchmark of issue 3 ("Speed"): sustained readings/s from
 * MQTT publish (QoS 1) to InfluxDB through the embedded broker, the SQLite
 * store in the same run for comparison, and the drain rate of a 60,000-
 * reading spool while live traffic continues at 1,000 readings/s.
 * Every party is its own process on loopback: kansui as `npm start` runs
 * it, Debian's influxd 1.6, load generators (firmware-sim --rate, mqtt.js,
 * one connection per sensor with its own credentials), and this process,
 * which only orchestrates and samples /metrics.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const SIM = join(root, 'firmware-sim/cli.ts');
const MAIN = join(root, 'services/main.ts');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = 2;
const GENERATORS = 2;
const SENSORS = 1_000;
const SPOOL_READINGS = 60_000;
const LIVE_RATE = 1_000;

const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`bench(influx): ${s}\n`);

/** The first JSON line on a child's stdout that matches. */
function nextJson(child: ChildProcess, match: (o: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (d: Buffer) => {
      buffer += d;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i).trim();
        buffer = buffer.slice(i + 1);
        if (!line.startsWith('{')) continue;
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          if (match(o)) {
            done();
            resolve(o);
            return;
          }
        } catch {
          // not ours
        }
      }
    };
    const onExit = () => {
      done();
      reject(new Error(`${what}: process exited ${child.exitCode}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function metric(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function startService(dataDir: string, env: Record<string, string>) {
  const httpPort = await getFreePort();
  const mqttPort = await getFreePort();
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kansui exited ${child.exitCode}: ${stderr}`);
    if (await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`kansui did not start: ${stderr}`);
    await sleep(100);
  }
  return { child, httpPort, url: `mqtt://127.0.0.1:${mqttPort}`, stop: () => stopChild(child) };
}

/** Load processes over the credentials file; resolves when they are connected, with a `go()` to release them. */
async function connectGenerators(opts: { url: string; credentials: string; rate: number; seconds: number; generators?: number; sensors?: number }) {
  const n = opts.generators ?? GENERATORS;
  const gens = Array.from({ length: n }, (_, i) =>
    track(
      spawn(
        process.execPath,
        ['--import', 'tsx', SIM, '--credentials', opts.credentials, '--sensors', String(opts.sensors ?? SENSORS), '--shard', `${i + 1}/${n}`,
          '--url', opts.url, '--rate', String(opts.rate / n), '--duration', String(opts.seconds), '--window', '8', '--wait-go', '--json'],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    ),
  );
  await Promise.all(gens.map((g) => nextJson(g, (o) => o.event === 'connected', 120_000, 'load generator connect')));
  return {
    go() {
      const results = gens.map((g) => nextJson(g, (o) => o.event === 'done', (opts.seconds + 60) * 1000, 'load generator done'));
      for (const g of gens) g.stdin?.write('go\n');
      return Promise.all(results).then(async (rs) => {
        await Promise.all(gens.map((g) => stopChild(g)));
        return rs as Record<string, number>[];
      });
    },
    stop: () => Promise.all(gens.map((g) => stopChild(g))),
  };
}

/** Sustained rate of `read()` between goAt + WARMUP_S and goAt + SECONDS − 0.5 s, sampled every 500 ms. */
async function sustained(read: () => Promise<number>, run: () => Promise<unknown>): Promise<number> {
  const samples: { t: number; v: number }[] = [];
  const goAt = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    read().then((v) => samples.push({ t, v }), () => {});
  }, 500);
  await run();
  clearInterval(timer);
  const inWindow = samples.filter((s) => s.t >= goAt + WARMUP_S * 1000 && s.t <= goAt + (SECONDS - 0.5) * 1000);
  const a = inWindow[0];
  const b = inWindow.at(-1);
  return a && b && b.t > a.t ? ((b.v - a.v) * 1000) / (b.t - a.t) : NaN;
}

async function influxCount(influx: RunningInfluxd): Promise<number> {
  const r = await influx.query('SELECT COUNT(level_cm) FROM water_level');
  return (r.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(intervalMs);
  }
}

export const bench: BenchModule = {
  key: 'influx',
  async run(): Promise<BenchSection> {
    const temp = makeTempDir('kansui-bench-influx-');
    const load0 = loadavg()[0] ?? 0;
    let influx: RunningInfluxd | undefined;
    try {
      const dataDir = join(temp.dir, 'data');
      const creds = registerSimSensors(
        dataDir,
        Array.from({ length: SENSORS }, (_, i) => ({ id: `sim-${String(i).padStart(4, '0')}`, name: `bench ${i}`, lat: 34.27, lon: 135.4 })),
      );
      const credentials = join(temp.dir, 'creds.jsonl');
      writeFileSync(credentials, creds.map((c) => JSON.stringify(c)).join('\n') + '\n');
      influx = await startInfluxd();
      const influxEnv = { STORE: 'influx', INFLUX_URL: influx.url, INFLUX_DATABASE: influx.database };

      log('SQLite store, same load');
      const sqliteService = await startService(dataDir, { STORE: 'sqlite' });
      let gens = await connectGenerators({ url: sqliteService.url, credentials, rate: 0, seconds: SECONDS });
      const sqliteRate = await sustained(() => metric(sqliteService.httpPort, 'kansui_readings_accepted_total'), () => gens.go());
      await sqliteService.stop();
      log(`sqlite: ${fmt(sqliteRate)}/s`);

      log('InfluxDB store');
      const service = await startService(dataDir, influxEnv);
      gens = await connectGenerators({ url: service.url, credentials, rate: 0, seconds: SECONDS });
      // In InfluxDB = accepted (acknowledged) minus what is still spooled.
      const inInflux = async () => (await metric(service.httpPort, 'kansui_readings_accepted_total')) - (await metric(service.httpPort, 'kansui_store_spool_readings'));
      let results: Record<string, number>[] = [];
      const influxRate = await sustained(inInflux, async () => {
        results = await gens.go();
      });
      const acked1 = results.reduce((s, r) => s + (r.acked ?? 0), 0);
      const spooledDuringThroughput = await metric(service.httpPort, 'kansui_store_spool_readings');
      await waitUntil(async () => (await metric(service.httpPort, 'kansui_store_spool_readings')) === 0, 60_000, 'spool empty after throughput run');
      const accepted1 = await metric(service.httpPort, 'kansui_readings_accepted_total');
      const count1 = await influxCount(influx);
      log(`influx: ${fmt(influxRate)}/s; acked ${fmt(acked1)}, accepted ${fmt(accepted1)}, in InfluxDB ${fmt(count1)}`);

      log(`spool of ${fmt(SPOOL_READINGS)} readings while influxd is down`);
      await influx.kill();
      // Publish as fast as the service takes it until the spool holds SPOOL_READINGS, then stop the generators.
      gens = await connectGenerators({ url: service.url, credentials, rate: 0, seconds: 300 });
      const filling = gens.go().catch(() => []);
      await waitUntil(async () => (await metric(service.httpPort, 'kansui_store_spool_readings')) >= SPOOL_READINGS, 300_000, 'spool to fill', 200);
      await gens.stop();
      await filling;
      const spoolDepth = await metric(service.httpPort, 'kansui_store_spool_readings');
      log(`spooled ${fmt(spoolDepth)}; live ${LIVE_RATE}/s on, influxd restarted`);
      const live = await connectGenerators({ url: service.url, credentials, rate: LIVE_RATE, seconds: 120, generators: 1 });
      const liveDone = live.go();
      await sleep(1000); // let live traffic settle into the spool path before the clock starts
      const drainStart = performance.now();
      await influx.restart();
      await waitUntil(async () => (await metric(service.httpPort, 'kansui_store_spool_readings')) === 0, 120_000, 'spool drained', 50);
      const drainS = (performance.now() - drainStart) / 1000;
      await live.stop();
      await liveDone.catch(() => []);
      await waitUntil(async () => (await metric(service.httpPort, 'kansui_store_spool_readings')) === 0, 60_000, 'spool empty after live load');
      const accepted2 = await metric(service.httpPort, 'kansui_readings_accepted_total');
      const count2 = await influxCount(influx);
      const quarantined = await metric(service.httpPort, 'kansui_store_quarantined_total');
      await service.stop();
      log(`drained in ${drainS.toFixed(2)} s; accepted ${fmt(accepted2)}, in InfluxDB ${fmt(count2)}`);

      const load1 = loadavg()[0] ?? 0;
      const rows: BenchRow[] = [
        {
          metric: `MQTT publish (QoS 1, ${fmt(SENSORS)} sensors, embedded broker) → InfluxDB 1.6, sustained`,
          value: `${fmt(influxRate)} readings/s`,
          target: '≥ 30,000/s',
          pass: influxRate >= 30_000,
        },
        { metric: 'same load → SQLite store, same run', value: `${fmt(sqliteRate)} readings/s` },
        {
          metric: 'readings acknowledged / in InfluxDB after the throughput run',
          value: `${fmt(accepted1)} / ${fmt(count1)} (spool depth at the end of the load: ${fmt(spooledDuringThroughput)})`,
          target: 'equal',
          pass: accepted1 === count1,
        },
        {
          metric: `drain of a ${fmt(spoolDepth)}-reading spool after influxd restarts, live traffic at ${fmt(LIVE_RATE)}/s meanwhile`,
          value: `${drainS.toFixed(1)} s (${fmt(spoolDepth / drainS)} readings/s incl. influxd start-up)`,
          target: '< 30 s',
          pass: drainS < 30 && spoolDepth >= SPOOL_READINGS * 0.95,
        },
        {
          metric: 'readings acknowledged / in InfluxDB after outage, drain and live traffic',
          value: `${fmt(accepted2)} / ${fmt(count2)}; quarantined ${fmt(quarantined)}`,
          target: 'equal, none lost',
          pass: accepted2 === count2,
        },
      ];
      return {
        key: 'influx',
        title: 'InfluxDB store: MQTT → InfluxDB, spool drain (issue 3)',
        method: [
          `Each party is its own process on loopback: kansui as \`npm start\` runs it (\`STORE=influx\`, embedded aedes broker), Debian's influxd 1.6.7 (WAL fsync on every write),`,
          `${GENERATORS} load processes (\`firmware-sim/cli.ts --rate\`: mqtt.js, one connection per sensor with its own credentials, QoS 1, at most 8 unacknowledged publishes per connection),`,
          `and the bench process, which samples \`/metrics\` every 500 ms. Throughput runs publish as fast as the window allows for ${SECONDS} s; the rate into InfluxDB is`,
          `\`kansui_readings_accepted_total − kansui_store_spool_readings\` from ${WARMUP_S} s after the start to 0.5 s before the end (a PUBACK is sent only after the batch is in InfluxDB or fsynced in the spool).`,
          `The SQLite row is the same load into the default store, same run, same sensors. Drain: influxd is SIGKILLed, generators publish as fast as they can until the spool holds ${fmt(SPOOL_READINGS)} readings,`,
          `a live generator starts at ${fmt(LIVE_RATE)}/s, influxd is restarted on the same directory, and the clock runs from the restart until the spool gauge reads 0. Counts in InfluxDB are \`SELECT COUNT(level_cm) FROM water_level\`.`,
        ].join(' '),
        rows,
        notes: [
          `Load average (1 min) ${load0.toFixed(2)} at the start and ${load1.toFixed(2)} at the end: two cores are shared by kansui, influxd, the generators and other engineers' work.`,
          'Not measured in this run: the Node-RED peer (node-red + node-red-contrib-influxdb, mqtt in → join 1,000 msgs or 0.5 s → influxdb batch) and the 200,000-reading burst loss comparison; see docs/influxdb.md.',
        ],
      };
    } finally {
      await Promise.all([...children].map((c) => stopChild(c)));
      await influx?.stop();
      temp.remove();
    }
  },
};
