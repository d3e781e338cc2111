import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerSimSensors } from '../../firmware-sim/credentials.ts';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { children, fmt, jsonLines, sleep, stopChild, track } from './children.ts';
import { countIn, installNodeRed, NODE_RED_DIR, NODE_RED_PACKAGES, runBurst, settle, startNodeRed, startPlainMosquitto } from './peer.ts';
import { metricValue, startService } from './service.ts';
import { waitFor } from '../helpers/wait.ts';
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = 2;
const GENERATORS = 2;
const SENSORS = 1_000;
const SPOOL_READINGS = 60_000;
const LIVE_RATE = 1_000;
const BURST = Number(process.env.BENCH_BURST ?? 200_000);

const log = (s: string) => process.stderr.write(`bench(influx): ${s}\n`);

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
  const outs = gens.map((g) => jsonLines(g));
  await Promise.all(outs.map((o) => o.next((l) => l.event === 'connected', 120_000, 'load generator connect')));
  return {
    go() {
      const results = outs.map((o) => o.next((l) => l.event === 'done', (opts.seconds + 60) * 1000, 'load generator done'));
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



export const bench: BenchModule = {
  key: 'influx',
  async run(): Promise<BenchSection> {
    const temp = makeTempDir('kansui-bench-influx-');
    const load0 = loadavg()[0] ?? 0;
    let influx: RunningInfluxd | undefined;
    try {
      const dataDir = join(temp.dir, 'data');
      const creds = await registerSimSensors(
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
      const sqliteRate = await sustained(() => metricValue(sqliteService.httpPort, 'kansui_readings_accepted_total'), () => gens.go());
      await sqliteService.stop();
      log(`sqlite: ${fmt(sqliteRate)}/s`);

      log('InfluxDB store');
      const service = await startService(dataDir, influxEnv);
      gens = await connectGenerators({ url: service.url, credentials, rate: 0, seconds: SECONDS });
      // In InfluxDB = accepted (acknowledged) minus what is still spooled.
      const inInflux = async () => (await metricValue(service.httpPort, 'kansui_readings_accepted_total')) - (await metricValue(service.httpPort, 'kansui_store_spool_readings'));
      let results: Record<string, number>[] = [];
      const influxRate = await sustained(inInflux, async () => {
        results = await gens.go();
      });
      const acked1 = results.reduce((s, r) => s + (r.acked ?? 0), 0);
      const spooledDuringThroughput = await metricValue(service.httpPort, 'kansui_store_spool_readings');
      await waitFor(async () => (await metricValue(service.httpPort, 'kansui_store_spool_readings')) === 0, { timeoutMs: 60_000, what: 'spool empty after throughput run', intervalMs: 100 });
      const accepted1 = await metricValue(service.httpPort, 'kansui_readings_accepted_total');
      const count1 = await influxCount(influx);
      log(`influx: ${fmt(influxRate)}/s; acked ${fmt(acked1)}, accepted ${fmt(accepted1)}, in InfluxDB ${fmt(count1)}`);

      log(`spool of ${fmt(SPOOL_READINGS)} readings while influxd is down`);
      await influx.kill();
      // Publish as fast as the service takes it until the spool holds SPOOL_READINGS, then stop the generators.
      gens = await connectGenerators({ url: service.url, credentials, rate: 0, seconds: 300 });
      const filling = gens.go().catch(() => []);
      await waitFor(async () => (await metricValue(service.httpPort, 'kansui_store_spool_readings')) >= SPOOL_READINGS, { timeoutMs: 300_000, what: 'spool to fill', intervalMs: 200 });
      await gens.stop();
      await filling;
      const spoolDepth = await metricValue(service.httpPort, 'kansui_store_spool_readings');
      log(`spooled ${fmt(spoolDepth)}; live ${LIVE_RATE}/s on, influxd restarted`);
      const live = await connectGenerators({ url: service.url, credentials, rate: LIVE_RATE, seconds: 120, generators: 1 });
      const liveDone = live.go();
      await sleep(1000); // let live traffic settle into the spool path before the clock starts
      const drainStart = performance.now();
      await influx.restart();
      await waitFor(async () => (await metricValue(service.httpPort, 'kansui_store_spool_readings')) === 0, { timeoutMs: 120_000, what: 'spool drained', intervalMs: 50 });
      const drainS = (performance.now() - drainStart) / 1000;
      await live.stop();
      await liveDone.catch(() => []);
      await waitFor(async () => (await metricValue(service.httpPort, 'kansui_store_spool_readings')) === 0, { timeoutMs: 60_000, what: 'spool empty after live load', intervalMs: 100 });
      const accepted2 = await metricValue(service.httpPort, 'kansui_readings_accepted_total');
      const count2 = await influxCount(influx);
      const quarantined = await metricValue(service.httpPort, 'kansui_store_quarantined_total');
      await service.stop();
      log(`drained in ${drainS.toFixed(2)} s; accepted ${fmt(accepted2)}, in InfluxDB ${fmt(count2)}`);

      // Burst: BURST readings into kansui (embedded broker → InfluxDB) and into the Node-RED peer (Mosquitto → Node-RED → InfluxDB).
      const burstRows: BenchRow[] = [];
      const burstNotes: string[] = [];
      if (process.env.BENCH_NODE_RED !== '0') {
        log(`burst of ${fmt(BURST)} readings into kansui`);
        await influx.query('CREATE DATABASE kansui_burst', '');
        const ks = await startService(dataDir, { ...influxEnv, INFLUX_DATABASE: 'kansui_burst' });
        const kb = await runBurst(ks.url, credentials, BURST, GENERATORS);
        const kSettled = await settle(() => countIn(influx as RunningInfluxd, 'kansui_burst', 'sim-'), kb.acked, 5_000, 180_000);
        await ks.stop();
        const kRate = kSettled.value / ((kSettled.lastGrowthAt - kb.goAt) / 1000);
        log(`kansui: ${fmt(kSettled.value)} of ${fmt(kb.acked)} in InfluxDB, ${fmt(kRate)}/s`);

        installNodeRed();
        const peer = async (tuned: boolean) => {
          const db = tuned ? 'nodered_tuned' : 'nodered_default';
          log(`burst of ${fmt(BURST)} readings into the Node-RED peer (Mosquitto ${tuned ? 'tuned' : 'defaults'})`);
          await (influx as RunningInfluxd).query(`CREATE DATABASE ${db}`, '');
          const mosq = await startPlainMosquitto(temp.dir, tuned);
          const nodeRed = await startNodeRed(temp.dir, mosq.port, influx as RunningInfluxd, db);
          const b = await runBurst(mosq.url, credentials, BURST, GENERATORS);
          const settled = await settle(() => countIn(influx as RunningInfluxd, db, 'sim-'), b.acked, 10_000, 300_000);
          await stopChild(nodeRed);
          await stopChild(mosq.child);
          const rate = settled.value / ((settled.lastGrowthAt - b.goAt) / 1000);
          log(`node-red (${db}): ${fmt(settled.value)} of ${fmt(b.acked)} in InfluxDB, ${fmt(rate)}/s`);
          return { ...b, stored: settled.value, rate };
        };
        const nDefault = await peer(false);
        const nTuned = await peer(true);
        const lost = (acked: number, stored: number) => `${fmt(acked - stored)} of ${fmt(acked)} (${((100 * (acked - stored)) / acked).toFixed(2)} %)`;
        const best = Math.max(nDefault.rate, nTuned.rate);
        burstRows.push(
          {
            metric: `${fmt(BURST)}-reading burst → InfluxDB, kansui (embedded broker, PUBACK after the batch is in InfluxDB or the spool)`,
            value: `${fmt(kRate)} readings/s into InfluxDB (publishers done in ${kb.publishS.toFixed(1)} s)`,
          },
          {
            metric: 'same burst, Node-RED peer (mqtt in → join 1,000 msgs or 0.5 s → influxdb batch), Mosquitto 2.0 defaults',
            value: `${fmt(nDefault.rate)} readings/s into InfluxDB (publishers done in ${nDefault.publishS.toFixed(1)} s)`,
          },
          {
            metric: '… same, Mosquitto tuned not to drop (max_inflight_messages 1000, max_queued_messages 1,000,000)',
            value: `${fmt(nTuned.rate)} readings/s into InfluxDB (publishers done in ${nTuned.publishS.toFixed(1)} s)`,
          },
          { metric: 'kansui ÷ the faster Node-RED run, readings/s into InfluxDB', value: `${(kRate / best).toFixed(2)} ×`, target: '≥ 1.5 ×', pass: kRate / best >= 1.5 },
          { metric: 'readings lost on the burst, kansui (acknowledged − in InfluxDB)', value: lost(kb.acked, kSettled.value), target: '0', pass: kb.acked === kSettled.value && kb.acked === BURST },
          { metric: 'readings lost on the burst, Node-RED peer, Mosquitto defaults (acknowledged by Mosquitto − in InfluxDB)', value: lost(nDefault.acked, nDefault.stored) },
          { metric: 'readings lost on the burst, Node-RED peer, Mosquitto tuned', value: lost(nTuned.acked, nTuned.stored) },
        );
        burstNotes.push(
          `Burst: ${GENERATORS} processes (test/bench/burst-publisher.ts) publish exactly ${fmt(BURST)} QoS 1 readings over ${fmt(SENSORS)} connections, at most 8 unacknowledged each; rate = points in InfluxDB ÷ time from the start of publishing to the last new point.`,
          `The two sides do not share a broker: kansui's sensors talk to its embedded broker, which acknowledges only durable readings and so slows publishers down instead of dropping; Node-RED cannot subscribe to that broker, so its side runs on Mosquitto, once with default queue limits as a city would install it (the broker drops what it cannot queue for the slow subscription) and once tuned so it never drops. All write to the same influxd, each its own database. Mosquitto acknowledges a publish at once, so its publishers finish sooner; what counts is what reaches InfluxDB.`,
          `Node-RED ${NODE_RED_PACKAGES.join(', ')} installed with npm into ${NODE_RED_DIR} by this script, never a project dependency.`,
        );
      } else {
        burstNotes.push('Node-RED peer and burst skipped (BENCH_NODE_RED=0).');
      }

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
        ...burstRows,
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
          ...burstNotes,
        ],
      };
    } finally {
      await Promise.all([...children].map((c) => stopChild(c)));
      await influx?.stop();
      temp.remove();
    }
  },
};
