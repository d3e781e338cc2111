import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { RunningInfluxd } from '../helpers/influxd.ts';
import { getFreePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';
import { jsonLines, sleep, stopChild, track } from './children.ts';

/**
 * What the benches that compare kansui with its peer share (influx.bench.ts,
 * ingest.bench.ts): a plain Debian Mosquitto, the Node-RED flow a city would
 * build instead of kansui, exact-count bursts of QoS 1 publishes, and waiting
 * for a count to settle.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const BURST_SCRIPT = join(root, 'test/bench/burst-publisher.ts');
/** The Node-RED peer is installed here with npm (about a minute, once) and reused: never a project dependency. */
export const NODE_RED_DIR = join(tmpdir(), 'kansui-bench-node-red');
export const NODE_RED_PACKAGES = ['node-red@4', 'node-red-contrib-influxdb@0.7'];

const log = (s: string) => process.stderr.write(`bench(peer): ${s}\n`);

/**
 * Burst: exactly `count` QoS 1 readings split over `generators` processes
 * (test/bench/burst-publisher.ts, mqtt.js, one connection per sensor), each
 * as fast as 8 unacknowledged publishes per connection allow.
 */
export async function runBurst(url: string, credentials: string, count: number, generators: number): Promise<{ acked: number; sent: number; goAt: number; publishS: number }> {
  const gens = Array.from({ length: generators }, (_, i) =>
    track(spawn(process.execPath, ['--import', 'tsx', BURST_SCRIPT, url, credentials, `${i + 1}/${generators}`, String(Math.round(count / generators)), '8'], { stdio: ['pipe', 'pipe', 'inherit'] })),
  );
  const outs = gens.map((g) => jsonLines(g));
  await Promise.all(outs.map((o) => o.next((l) => l.event === 'connected', 120_000, 'burst publisher connect')));
  const results = outs.map((o) => o.next((l) => l.event === 'done', 600_000, 'burst publisher done'));
  const goAt = performance.now();
  for (const g of gens) g.stdin?.write('go\n');
  const rs = (await Promise.all(results)) as Record<string, number>[];
  await Promise.all(gens.map((g) => stopChild(g)));
  const sum = (k: string) => rs.reduce((s, r) => s + (r[k] ?? 0), 0);
  return { acked: sum('acked'), sent: sum('sent'), goAt, publishS: (performance.now() - goAt) / 1000 };
}

/**
 * Poll a count every `intervalMs` until it reaches `target` or stops growing for `quietMs`; returns it and when it
 * last grew. A COUNT over hundreds of thousands of points costs influxd CPU: poll less often where that matters.
 */
export async function settle(read: () => Promise<number>, target: number, quietMs: number, timeoutMs: number, intervalMs = 100): Promise<{ value: number; lastGrowthAt: number }> {
  let value = -1;
  let lastGrowthAt = performance.now();
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => value);
    if (v > value) {
      value = v;
      lastGrowthAt = performance.now();
    }
    if (value >= target || performance.now() - lastGrowthAt > quietMs || performance.now() > deadline) return { value, lastGrowthAt };
    await sleep(intervalMs);
  }
}

/** Points of water_level in `db` whose sensor id starts with `prefix`. */
export async function countIn(influx: RunningInfluxd, db: string, prefix: string): Promise<number> {
  const r = await influx.query(`SELECT COUNT(level_cm) FROM water_level WHERE sensor_id =~ /^${prefix}/`, db);
  return (r.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

export function installNodeRed(): string {
  if (!existsSync(join(NODE_RED_DIR, 'node_modules/node-red/red.js')) || !existsSync(join(NODE_RED_DIR, 'node_modules/node-red-contrib-influxdb'))) {
    log(`installing ${NODE_RED_PACKAGES.join(' ')} into ${NODE_RED_DIR} (npm, once)`);
    mkdirSync(NODE_RED_DIR, { recursive: true });
    writeFileSync(join(NODE_RED_DIR, 'package.json'), JSON.stringify({ name: 'kansui-bench-node-red', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...NODE_RED_PACKAGES], { cwd: NODE_RED_DIR, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return NODE_RED_DIR;
}

export async function waitPort(port: number, timeoutMs: number, what: string): Promise<void> {
  await waitFor(
    () => new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    }),
    { timeoutMs, what, intervalMs: 100 },
  );
}

/**
 * The settings of the tuned plain Mosquitto (startPlainMosquitto(…, true)), for method texts: those of the
 * shipped deploy/mosquitto/kansui.conf. `set_tcp_nodelay`: without it Nagle's algorithm held Mosquitto's
 * PUBACKs to an ingest worker's bus messages until Node's delayed ACK, ~40 ms per commit (bench: ingest).
 */
export const TUNED_MOSQUITTO = ['set_tcp_nodelay true', 'max_inflight_messages 1000', 'max_queued_messages 1000000'];

/**
 * Mosquitto for the Node-RED peer. `tuned: false` is as a city would install
 * it (defaults: max_inflight_messages 20, max_queued_messages 1,000 per
 * client); `tuned: true` raises both (1,000 and 1,000,000) so the broker never
 * drops for a slow subscriber and the flow's own throughput shows.
 * Anonymous clients, no ACL, no persistence file: a private broker on loopback.
 */
export async function startPlainMosquitto(dir: string, tuned: boolean): Promise<{ url: string; port: number; child: ChildProcess }> {
  const port = await getFreePort();
  const conf = join(dir, `mosquitto-${tuned ? 'tuned' : 'default'}-${port}.conf`);
  const limits = tuned ? TUNED_MOSQUITTO : [];
  writeFileSync(conf, ['user root', `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...limits, 'log_dest stderr', 'log_type error', ''].join('\n'));
  const child = track(spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] }));
  await waitPort(port, 10_000, 'mosquitto');
  return { url: `mqtt://127.0.0.1:${port}`, port, child };
}

/**
 * The peer a city would otherwise assemble (issue 3): Node-RED, mqtt in →
 * function (reading → point) → join (1,000 messages or 0.5 s) → influxdb batch
 * (node-red-contrib-influxdb, InfluxDB 1.x, precision ms), in its own process.
 */
export async function startNodeRed(dir: string, mqttPort: number, influx: RunningInfluxd, database: string): Promise<ChildProcess> {
  const userDir = join(dir, `node-red-${database}`);
  mkdirSync(userDir, { recursive: true });
  // Nodes are found in <userDir>/node_modules: point it at the install folder.
  execFileSync('ln', ['-s', join(NODE_RED_DIR, 'node_modules'), join(userDir, 'node_modules')]);
  const uiPort = await getFreePort();
  const toPoint = [
    "const id = msg.topic.split('/')[1];",
    'const p = msg.payload;',
    "msg.payload = { measurement: 'water_level', tags: { sensor_id: id }, fields: { level_cm: p.level_cm, seq: p.seq }, timestamp: new Date(p.ts) };",
    'return msg;',
  ].join('\n');
  const flows = [
    { id: 'peer.tab', type: 'tab', label: 'kansui peer' },
    { id: 'peer.broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(mqttPort), clientid: 'node-red-peer', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'peer.in', type: 'mqtt in', z: 'peer.tab', topic: 'flood/+/reading', qos: '1', datatype: 'json', broker: 'peer.broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['peer.fn']] },
    { id: 'peer.fn', type: 'function', z: 'peer.tab', name: 'to point', func: toPoint, outputs: 1, wires: [['peer.join']] },
    { id: 'peer.join', type: 'join', z: 'peer.tab', mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '0.5', count: '1000', reduceRight: false, wires: [['peer.out']] },
    { id: 'peer.db', type: 'influxdb', hostname: '127.0.0.1', port: String(influx.httpPort), protocol: 'http', database, name: 'kansui-bench', usetls: false, influxdbVersion: '1.x' },
    { id: 'peer.out', type: 'influxdb batch', z: 'peer.tab', influxdb: 'peer.db', precision: 'ms', retentionPolicy: '', name: 'write', wires: [] },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = { uiPort: ${uiPort}, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false, httpNodeRoot: false,
      logging: { console: { level: 'warn', metrics: false, audit: false } }, telemetry: { enabled: false }, editorTheme: { tours: false } };\n`,
  );
  const child = track(spawn(process.execPath, [join(NODE_RED_DIR, 'node_modules/node-red/red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')], { stdio: ['ignore', 'ignore', 'inherit'] }));
  // Ready when a probe reading published to Mosquitto arrives in InfluxDB through the flow.
  const probe = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'bench-probe', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    probe.once('connect', () => resolve());
    probe.once('error', reject);
  });
  try {
    await waitFor(
      async () => {
        probe.publish('flood/probe/reading', JSON.stringify({ ts: Date.now(), level_cm: 1, seq: 0 }), { qos: 1 });
        const r = await influx.query("SELECT COUNT(level_cm) FROM water_level WHERE sensor_id = 'probe'", database);
        return ((r.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0) > 0;
      },
      { timeoutMs: 120_000, what: 'Node-RED flow to deliver a probe reading', intervalMs: 500 },
    );
  } finally {
    await probe.endAsync(true);
  }
  return child;
}
