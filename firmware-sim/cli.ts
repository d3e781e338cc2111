import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { readCredentialsFile, registerSimSensors, toSimSensor, type SensorSpec } from './credentials.ts';
import { FAULT_KINDS, FaultSpecError, parseFault, type Fault } from './faults.ts';
import { runLoad } from './load.ts';
import { SensorConnectError, type SimSensor } from './mqtt-session.ts';
import { ScenarioName, SCENARIOS } from './scenarios.ts';
import { createSimulator, type ScenarioSensor } from './simulator.ts';

const USAGE = `usage: npm run sim -- [options]

Simulated road-flood sensors publishing readings over MQTT, each with its own
credentials (username = sensor id), QoS 1, persistent session, reconnecting
with exponential backoff (1 s doubling to 30 s, ±20 % jitter).

Which sensors (one of):
  --credentials FILE      JSON lines as printed by \`kansui sensor add\`
                          (e.g. npx kansui sensor add … >> creds.jsonl)
  --register N            register N sensors (sim-0001 …) in --data-dir, as
                          \`kansui sensor add\` does; existing ones get a new password
    --data-dir DIR        default: $DATA_DIR or ./data
    --prefix TEXT         id prefix (default "sim-")
    --distance-every K    every K-th sensor is a distance sensor (mount height
                          3000 mm, min range 250 mm) sending distance_mm (default 4; 0 = none)
    --save-credentials F  also write the credentials as JSON lines to F
  --sensors N             use only the first N sensors
  --shard K/N             use the K-th of N equal slices (1-based), for several load processes

Where:
  --url URL               broker (default mqtt://127.0.0.1:$MQTT_PORT or :1883)
  --qos 0|1               default 1

Scenario mode (default):
  --scenario NAME         ${SCENARIOS.join(' | ')} (default heavy-rain)
      dry          base level with ±0.5 cm noise
      heavy-rain   NRCS gamma unit-hydrograph rise and recession (NEH 630 ch. 16)
      flash-flood  steep smoothstep rise, exponential (linear reservoir) recession
  --time-scale X          scenario seconds per real second (alias --speed; default 60:
                          a 60-minute rise to peak takes one minute)
  --interval S            real seconds between one sensor's readings (default 5)
  --peak-cm CM            rise above base at the peak (default 45; thresholds 10/20/30)
  --base-cm CM            level with no storm (default 0)
  --time-to-peak-min M    scenario minutes from storm start to peak (default 60)
  --lag-spread-min M      spread sensors' peaks over M scenario minutes (default 0)
  --start-at-min M        start M scenario minutes into the storm (default 0)
  --duration S            stop after S real seconds (default: when the storm has
                          passed; dry: run until Ctrl-C)
  --seed N                noise and jitter seed (default 1)
  --fault SPEC            inject a fault; repeatable. SPEC is KIND[:key=value,…]:
      silence:at=S[,for=S]      publish nothing (drop-out) from S s, for S s
      disconnect:at=S,for=S     drop the connection (readings queue, QoS 1 resent)
      spike:at=S,cm=CM          one reading reports CM
      bad-payload:every=N       every N-th payload malformed (JSON, types,
                                1e400, negative, oversize, ts in future)
      clock-skew:s=S            device clock S seconds off (> 300 is refused)
      low-battery:v=V           report battery_v V
      duplicate:every=N         every N-th reading sent twice
    add sensor=ID to any fault to hit one sensor only; times are real seconds.

Load mode (benchmarks):
  --rate N                total readings/s across all sensors (0 = as fast as
                          the window allows); timestamps are now, strictly
                          increasing per sensor
  --duration S            seconds to publish (default 10)
  --window N              most unacknowledged publishes per connection (default 8)
  --client mqtt.js|lean   MQTT client for load (default mqtt.js). lean: a minimal
                          QoS 1 publisher (firmware-sim/lean-mqtt.ts) whose CPU cost
                          per publish is a fraction of mqtt.js's, for benchmarks
  --wait-go               after connecting, print {"event":"connected"} and wait
                          for a line on stdin before publishing
  Each sensor publishes rate/sensors readings/s; the embedded broker refuses
  more than MQTT_SENSOR_RATE_PER_MIN a minute per sensor (burst
  MQTT_SENSOR_BURST; default 120 and 1000) as rate_limited. Start the service
  for a load test with those raised, e.g. MQTT_SENSOR_RATE_PER_MIN=6000000
  MQTT_SENSOR_BURST=1000000 (test/bench/service.ts does).

Output:
  --json                  progress and result as JSON lines on stdout
  --help

Examples:
  npm run sim -- --register 10 --data-dir ./data --scenario heavy-rain --time-scale 60
  npm run sim -- --credentials creds.jsonl --scenario flash-flood --fault spike:at=20,cm=150
  npm run sim -- --credentials creds.jsonl --rate 5000 --duration 30 --json
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  credentials: { type: 'string' },
  register: { type: 'string' },
  'data-dir': { type: 'string' },
  prefix: { type: 'string' },
  'distance-every': { type: 'string' },
  'save-credentials': { type: 'string' },
  sensors: { type: 'string' },
  shard: { type: 'string' },
  url: { type: 'string' },
  qos: { type: 'string' },
  scenario: { type: 'string' },
  'time-scale': { type: 'string' },
  speed: { type: 'string' },
  interval: { type: 'string' },
  'peak-cm': { type: 'string' },
  'base-cm': { type: 'string' },
  'time-to-peak-min': { type: 'string' },
  'lag-spread-min': { type: 'string' },
  'start-at-min': { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
  fault: { type: 'string', multiple: true },
  rate: { type: 'string' },
  window: { type: 'string' },
  client: { type: 'string' },
  'wait-go': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function num(v: string | undefined, flag: string, schema: z.ZodNumber, fallback: number): number;
function num(v: string | undefined, flag: string, schema: z.ZodNumber): number | undefined;
function num(v: string | undefined, flag: string, schema: z.ZodNumber, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  const parsed = schema.safeParse(Number(v));
  if (v.trim() === '' || !parsed.success) {
    throw new UsageError(`--${flag}: ${v} is not valid (${parsed.error?.issues[0]?.message ?? 'empty'})`);
  }
  return parsed.data;
}

/** Kinokawa city centre (Wakayama), where simulated sensors are placed. */
const CENTRE = { lat: 34.27, lon: 135.4 };

function simSpecs(n: number, prefix: string, distanceEvery: number): SensorSpec[] {
  const width = Math.max(4, String(n).length);
  return Array.from({ length: n }, (_, i) => {
    const distance = distanceEvery > 0 && (i + 1) % distanceEvery === 0;
    return {
      id: `${prefix}${String(i + 1).padStart(width, '0')}`,
      name: `Simulated sensor ${i + 1}`,
      // Spread on a grid of ~100 m cells east–west along the river.
      lat: CENTRE.lat + (Math.floor(i / 100) - 5) * 0.001,
      lon: CENTRE.lon + ((i % 100) - 50) * 0.001,
      ...(distance && { mountHeightMm: 3000, minRangeMm: 250 }),
    };
  });
}

export interface SimEnv {
  DATA_DIR?: string | undefined;
  MQTT_PORT?: string | undefined;
}

/** Resolve which sensors to simulate from the options. */
export async function selectSensors(v: Record<string, unknown>, env: SimEnv): Promise<SimSensor[]> {
  let sensors: SimSensor[];
  if (typeof v.credentials === 'string') {
    if (v.register !== undefined) throw new UsageError('--credentials and --register: choose one');
    sensors = readCredentialsFile(v.credentials);
  } else if (typeof v.register === 'string') {
    const n = num(v.register, 'register', z.number().int().min(1).max(100_000), 1);
    const dataDir = (v['data-dir'] as string | undefined) ?? env.DATA_DIR ?? './data';
    const every = num(v['distance-every'] as string | undefined, 'distance-every', z.number().int().min(0), 4);
    const lines = await registerSimSensors(dataDir, simSpecs(n, (v.prefix as string | undefined) ?? 'sim-', every));
    if (typeof v['save-credentials'] === 'string') {
      writeFileSync(v['save-credentials'], lines.map((l) => JSON.stringify(l)).join('\n') + '\n', { mode: 0o600 });
    }
    sensors = lines.map(toSimSensor);
  } else {
    throw new UsageError('which sensors? give --credentials FILE or --register N (see --help)');
  }
  const limit = num(v.sensors as string | undefined, 'sensors', z.number().int().min(1));
  if (limit !== undefined) sensors = sensors.slice(0, limit);
  if (typeof v.shard === 'string') {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard);
    const k = Number(m?.[1]);
    const of = Number(m?.[2]);
    if (!m || k < 1 || k > of) throw new UsageError(`--shard ${v.shard}: expected K/N with 1 ≤ K ≤ N`);
    const size = Math.ceil(sensors.length / of);
    sensors = sensors.slice((k - 1) * size, k * size);
  }
  if (sensors.length === 0) throw new UsageError('no sensors selected');
  return sensors;
}

function waitForLine(): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.once('line', () => {
      rl.close();
      resolve();
    });
    rl.once('close', () => resolve());
  });
}

/** Run the simulator CLI; resolves with the exit code. */
export async function runSimCli(argv: string[], env: SimEnv & Record<string, string | undefined>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    process.stderr.write(`sim: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const json = v.json === true;
  const say = (event: string, fields: Record<string, unknown>, human: string) => {
    if (json) process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
    else process.stderr.write(`sim: ${human}\n`);
  };
  try {
    const url = v.url ?? `mqtt://127.0.0.1:${env.MQTT_PORT ?? 1883}`;
    const qos = num(v.qos, 'qos', z.number().int().min(0).max(1), 1) as 0 | 1;
    const faults: Fault[] = (v.fault ?? []).map(parseFault);

    if (v.rate !== undefined) {
      const rate = num(v.rate, 'rate', z.number().min(0).max(1_000_000), 0);
      const durationS = num(v.duration, 'duration', z.number().positive().max(3600), 10);
      const window = num(v.window, 'window', z.number().int().min(1).max(1000), 8);
      if (faults.length) throw new UsageError('--fault is for scenario mode, not --rate');
      const client = v.client ?? 'mqtt.js';
      if (client !== 'mqtt.js' && client !== 'lean') throw new UsageError(`--client ${client}: mqtt.js or lean`);
      const sensors = await selectSensors(v, env);
      const result = await runLoad({
        url, sensors, rate, durationS, window, qos, client,
        beforePublish: async () => {
          say('connected', { sensors: sensors.length }, `${sensors.length} sensors connected to ${url}`);
          if (v['wait-go']) await waitForLine();
        },
      });
      say('done', { ...result }, `sent ${result.sent}, acked ${result.acked} in ${result.elapsedS.toFixed(1)} s = ${Math.round(result.ackedPerS)}/s (behind ${result.behind})`);
      return 0;
    }

    const scenarioParsed = ScenarioName.safeParse(v.scenario ?? 'heavy-rain');
    if (!scenarioParsed.success) throw new UsageError(`--scenario ${v.scenario}: one of ${SCENARIOS.join(', ')}`);
    const scenario = scenarioParsed.data;
    if (v.speed !== undefined && v['time-scale'] !== undefined) throw new UsageError('--speed and --time-scale are the same option; give one');
    const timeScale = num(v['time-scale'] ?? v.speed, 'time-scale', z.number().positive().max(1e6), 60);
    const intervalS = num(v.interval, 'interval', z.number().min(0.01).max(86_400), 5);
    const peakRiseCm = num(v['peak-cm'], 'peak-cm', z.number().min(0).max(2000), 45);
    const baseCm = num(v['base-cm'], 'base-cm', z.number().min(0).max(2000), 0);
    const timeToPeakS = 60 * num(v['time-to-peak-min'], 'time-to-peak-min', z.number().positive().max(10_000), 60);
    const lagSpreadS = 60 * num(v['lag-spread-min'], 'lag-spread-min', z.number().min(0).max(10_000), 0);
    const startAtS = 60 * num(v['start-at-min'], 'start-at-min', z.number().min(0), 0);
    const durationS = num(v.duration, 'duration', z.number().positive());
    const seed = num(v.seed, 'seed', z.number().int(), 1);

    const base = await selectSensors(v, env);
    const sensors: ScenarioSensor[] = base.map((s, i) => ({
      ...s,
      site: { baseCm, peakRiseCm, timeToPeakS, lagS: base.length > 1 ? (lagSpreadS * i) / (base.length - 1) : 0 },
    }));
    const sim = createSimulator({ url, sensors, scenario, timeScale, intervalS, startAtS, faults, seed, qos });
    let lastError = '';
    sim.on('error', (err, id) => {
      if (err.message !== lastError) say('error', { sensor_id: id, error: err.message }, `${id}: ${err.message}`);
      lastError = err.message;
    });
    await sim.start();
    const remaining = sim.remainingS();
    const runFor = durationS ?? (Number.isFinite(remaining) ? remaining + intervalS : Infinity);
    say('started', { sensors: sensors.length, url, scenario, time_scale: timeScale, run_s: Number.isFinite(runFor) ? runFor : null },
      `${sensors.length} sensors on ${url}: ${scenario} ×${timeScale}${Number.isFinite(runFor) ? `, ${Math.round(runFor)} s` : ', Ctrl-C to stop'}`);

    let latest = new Map<string, number>();
    sim.on('sample', (s) => latest.set(s.sensorId, s.levelCm));
    const progress = setInterval(() => {
      const levels = [...latest.values()];
      const max = levels.length ? Math.max(...levels) : 0;
      const st = sim.stats();
      say('progress', { scenario_min: sim.scenarioS() / 60, max_level_cm: max, ...st },
        `t=${(sim.scenarioS() / 60).toFixed(0)} min  max ${max.toFixed(1)} cm  connected ${st.connected}/${st.sensors}  published ${st.published}  acked ${st.acked}`);
      latest = new Map();
    }, Math.max(2000, intervalS * 1000));

    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (Number.isFinite(runFor)) setTimeout(done, runFor * 1000).unref();
    });
    clearInterval(progress);
    await sim.stop();
    say('done', { ...sim.stats() }, `stopped: ${JSON.stringify(sim.stats())}`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof FaultSpecError || (err as Error).name === 'DomainError' || err instanceof z.ZodError) {
      process.stderr.write(`sim: ${(err as Error).message}\n`);
      return 2;
    }
    if (err instanceof SensorConnectError || /CONNACK return code|ECONNREFUSED/.test((err as Error).message)) {
      process.stderr.write(`sim: cannot connect: ${(err as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`sim: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}

// Entry point (`npm run sim`): only when run directly, not when imported by tests.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  runSimCli(process.argv.slice(2), process.env).then((code) => process.exit(code));
}

export { FAULT_KINDS };
