import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKansuiCli } from '../helpers/cli.ts';
import { TEST_PASSWORD } from '../helpers/console.ts';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { findDynsecPlugin, startDynsecMosquitto, type RunningDynsecMosquitto } from '../helpers/mosquitto.ts';
import { NGINX, startRolesNginx, type RunningNginx } from '../helpers/nginx.ts';
import { getFreePort } from '../helpers/ports.ts';
import { buildIfStale } from '../helpers/process.ts';
import { startRoleProcess, type RoleProcess } from '../helpers/role-process.ts';
import type { SseEvent } from '../helpers/sse.ts';
import { openViewer, type Viewer } from '../helpers/sse-viewer.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INGEST_LOGIN = { username: 'kansui-ingest', password: 'ingest-secret-for-the-multi-process-test' };
const SENSORS = 12;
const VIEWERS = 6;
/**
 * The storm: flash-flood, ×400 so the peak (60 scenario minutes) comes 9 s in,
 * each sensor every 50 ms (the simulator ticks every 20 ms, so about every
 * 60 ms): ≈ 200 readings/s for 14 s. Enough to cross every threshold and to
 * have readings in flight when the processes die; small enough for a loaded
 * 2-core machine running nine processes.
 */
const STORM = { scenario: 'flash-flood', timeScale: 400, intervalS: 0.05, durationS: 14 };

/** `sensor@epoch-ms`, the store's key for a reading. */
const keyOf = (sensorId: string, ts: string) => `${sensorId}@${Date.parse(ts)}`;

/**
 * Issue 15, "Done when": the production topology split into roles, as
 * processes on this machine. Mosquitto with dynamic security, influxd, one
 * core, two ingest workers (one shared subscription) and two web processes
 * (the compiled dist/ with KANSUI_ROLE), the shipped deploy/nginx/kansui-roles.conf
 * in front. A technician registers the sensors in the console through nginx;
 * the simulator publishes a storm; mid-storm one ingest worker and one web
 * process are SIGKILLed, the worker restarted (as systemd or compose would),
 * the web process not. Every reading is stored exactly once in InfluxDB, and
 * every viewer, connected through nginx and reconnecting with Last-Event-ID
 * (to the surviving web process for those of the dead one), has every reading
 * without a resync.
 */
describe.skipIf(!NGINX || !findDynsecPlugin())('multi-process topology: Mosquitto + influxd + core + 2 ingest + 2 web + nginx', () => {
  const data = makeTempDir('kansui-multi-');
  let mosquitto: RunningDynsecMosquitto;
  let influx: RunningInfluxd;
  let core: RoleProcess;
  let ingest: RoleProcess[] = [];
  let web: RoleProcess[] = [];
  let nginx: RunningNginx;
  const viewers: Viewer[] = [];

  const all = () => [core, ...ingest, ...web].filter(Boolean);
  const stderrs = () => all().map((p) => `--- ${p.role} ${p.instance}:\n${p.stderr().slice(-2000)}`).join('\n');

  beforeAll(async () => {
    // The build may take up to its own 180-s limit when sources changed (synchronous), then the processes start.
    buildIfStale(ROOT);
    [mosquitto, influx] = await Promise.all([startDynsecMosquitto(), startInfluxd()]);
    const tech = await runKansuiCli(['user', 'add', '--username', 'tech', '--role', 'technician'], data.dir, `${TEST_PASSWORD}\n`);
    if (tech.code !== 0) throw new Error(`user add: ${tech.stderr}`);
    const env = {
      DATA_DIR: data.dir,
      LOG_LEVEL: 'warn',
      MQTT_URL: mosquitto.url,
      MQTT_USERNAME: INGEST_LOGIN.username,
      MQTT_PASSWORD: INGEST_LOGIN.password,
      STORE: 'influx',
      INFLUX_URL: influx.url,
      INFLUX_DATABASE: influx.database,
      TRUST_PROXY: 'true',
    };
    // The core first: it creates the ingest login in Mosquitto that every role connects with.
    core = await startRoleProcess({
      root: ROOT, role: 'core', instance: 'core', port: await getFreePort(),
      env: { ...env, MOSQUITTO_DYNSEC: 'true', MOSQUITTO_DYNSEC_USERNAME: mosquitto.admin.username, MOSQUITTO_DYNSEC_PASSWORD: mosquitto.admin.password },
    });
    const ports = await Promise.all([getFreePort(), getFreePort(), getFreePort(), getFreePort()]);
    [ingest, web] = await Promise.all([
      Promise.all([1, 2].map((n) => startRoleProcess({ root: ROOT, role: 'ingest', instance: `ingest-${n}`, port: ports[n - 1] as number, env: { ...env, MQTT_SHARE_GROUP: 'kansui', MQTT_CLIENT_ID: `kansui-ingest-${n}` } }))),
      Promise.all([1, 2].map((n) => startRoleProcess({ root: ROOT, role: 'web', instance: `web-${n}`, port: ports[n + 1] as number, env }))),
    ]);
    nginx = await startRolesNginx({ core: [core.port], ingest: ingest.map((p) => p.port), web: web.map((p) => p.port) });
  }, 300_000);

  afterAll(async () => {
    await Promise.all(viewers.map((v) => v.close()));
    await nginx?.stop();
    await Promise.all(all().map((p) => p.kill('SIGKILL')));
    await Promise.all([mosquitto?.stop(), influx?.stop()]);
    data.remove();
  });

  it('stores every reading of a storm once and brings every viewer every reading, through a SIGKILL of an ingest worker and a web process', async () => {
    const base = nginx.url;
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // The console through nginx: the sign-in and the registrations are writes, so they reach the core.
    const session = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base }, body: JSON.stringify({ username: 'tech', password: TEST_PASSWORD }) });
    expect(session.status).toBe(200);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const credentials: string[] = [];
    for (let i = 1; i <= SENSORS; i++) {
      const id = `storm-${String(i).padStart(2, '0')}`;
      const res = await fetch(`${base}/api/sensors`, {
        method: 'POST',
        headers: { Cookie: cookie, Origin: base, 'Content-Type': 'application/json' },
        body: JSON.stringify({ id, name: `豪雨${i}`, lat: 34.2 + i / 100, lon: 135.4 }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const { mqtt } = (await res.json()) as { mqtt: { password: string } };
      credentials.push(JSON.stringify({ id, mqtt: { username: id, password: mqtt.password } }));
    }
    phase('registered');
    const credentialsFile = join(data.dir, 'storm-credentials.jsonl');
    writeFileSync(credentialsFile, credentials.join('\n') + '\n');

    // Viewers through nginx: least_conn spreads them over both web processes; none lands on the core.
    for (let i = 0; i < VIEWERS; i++) {
      const v = openViewer(`${base}/api/events`);
      viewers.push(v);
      await v.ready;
    }
    const onWeb = await Promise.all(web.map((p) => p.metric('kansui_sse_clients')));
    expect(onWeb.reduce((a, b) => a + b, 0)).toBe(VIEWERS);
    expect(Math.min(...onWeb)).toBeGreaterThan(0);
    expect(await core.metric('kansui_sse_clients')).toBe(0);

    // The storm, from the simulator's own command line (compiled, as `npm run sim` runs it).
    const sim = spawn(
      process.execPath,
      [
        join(ROOT, 'dist/firmware-sim/cli.js'),
        '--credentials', credentialsFile, '--url', mosquitto.url,
        '--scenario', STORM.scenario, '--time-scale', String(STORM.timeScale), '--interval', String(STORM.intervalS),
        '--duration', String(STORM.durationS), '--json',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let simOut = '';
    let simErr = '';
    sim.stdout.on('data', (d) => (simOut += d));
    sim.stderr.on('data', (d) => (simErr += d));
    const simExit = new Promise<number | null>((r) => sim.once('exit', (code) => r(code)));

    // Mid-storm: both ingest workers have stored readings (the shared subscription splits them).
    const [ingest1, ingest2] = ingest as [RoleProcess, RoleProcess];
    await waitFor(async () => (await ingest1.metric('kansui_readings_accepted_total')) >= 200 && (await ingest2.metric('kansui_readings_accepted_total')) >= 200, {
      timeoutMs: 30_000,
      what: () => `both ingest workers to store readings; sim: ${simOut.slice(-500)} ${simErr.slice(-500)}\n${stderrs()}`,
    });
    const [web1] = web as [RoleProcess, RoleProcess];
    const killedAt = Date.now();
    await Promise.all([ingest1.kill('SIGKILL'), web1.kill('SIGKILL')]);
    // What systemd's Restart=on-failure does: the worker comes back under its own name, so its persistent
    // session (and what Mosquitto queued for it meanwhile) is its own again. The web process stays dead.
    await ingest1.restart();
    const restartedInMs = Date.now() - killedAt;

    phase('restarted');
    // The storm's 14 s, then up to 10 s for the last PUBACKs and 10 s to hang up (firmware-sim/simulator.ts stop()).
    const simCode = await Promise.race([
      simExit,
      new Promise<never>((_, reject) => setTimeout(() => (sim.kill('SIGKILL'), reject(new Error(`the simulator did not finish within 60 s: ${simOut.slice(-500)} ${simErr.slice(-500)}`))), 60_000).unref()),
    ]);
    expect(simCode, simErr).toBe(0);
    phase('storm over');
    const done = simOut
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; published?: number; acked?: number; failed?: number })
      .find((e) => e.event === 'done');
    expect(done, simOut).toBeDefined();
    const { published = 0, acked = 0, failed = 0 } = done ?? {};
    // Mosquitto never went away: the simulator has an acknowledgement for every reading it published.
    expect({ published, failed }).toEqual({ published: acked, failed: 0 });
    expect(acked).toBeGreaterThan(1000);

    // Every reading stored exactly once: InfluxDB keys a point by (sensor, ts), and holds as many as were published.
    let stored: string[] = [];
    await waitFor(
      async () => {
        stored = await influx.pointKeys();
        return stored.length >= acked;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: () => `InfluxDB to hold all ${acked} readings (has ${stored.length})\n${stderrs()}` },
    );
    phase('stored');
    expect(stored.length).toBe(acked);
    expect(new Set(stored).size).toBe(acked);

    // Every viewer caught up with every stored reading, those of the dead web process through the other one.
    const want = new Set(stored);
    // Each viewer's reading keys, parsed once per event (a rescan per poll would cost seconds on a loaded machine).
    const seen = viewers.map(() => ({ keys: new Set<string>(), parsed: 0 }));
    const seenBy = (i: number) => {
      const v = viewers[i] as Viewer;
      const s = seen[i] as { keys: Set<string>; parsed: number };
      for (; s.parsed < v.events.length; s.parsed++) {
        const e = v.events[s.parsed] as SseEvent;
        if (e.event !== 'reading') continue;
        const r = JSON.parse(e.data) as { sensor_id: string; ts: string };
        s.keys.add(keyOf(r.sensor_id, r.ts));
      }
      return s.keys;
    };
    const missingOf = (i: number) => {
      const keys = seenBy(i);
      return [...want].filter((k) => !keys.has(k));
    };
    const missing = () => viewers.map((_, i) => missingOf(i).length);
    await waitFor(() => missing().every((n) => n === 0), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: () => `every viewer to have all ${want.size} readings (missing per viewer: ${missing().join(', ')}; resyncs ${viewers.map((v) => v.resyncs()).join(', ')}; the first missing, ms after the SIGKILL: ${missingOf(0).slice(0, 10).map((k) => `${k.split('@')[0]} ${Number(k.split('@')[1]) - killedAt}`).join(', ')})\n${stderrs()}`,
    });
    phase('viewers caught up');
    for (const v of viewers) expect(v.resyncs()).toBe(0);
    // The dead web process's viewers did reconnect (to the other one: the only web process left).
    const reconnected = viewers.filter((v) => v.connections() > 1).length;
    expect(reconnected).toBe(onWeb[0]);
    expect(await (web[1] as RoleProcess).metric('kansui_sse_clients')).toBe(VIEWERS);

    // The map through nginx (web pool) shows each sensor's newest stored reading.
    const newest = new Map<string, number>();
    for (const k of stored) {
      const [id, ms] = k.split('@') as [string, string];
      newest.set(id, Math.max(newest.get(id) ?? 0, Number(ms)));
    }
    let shown = new Map<string, number>();
    await waitFor(
      async () => {
        const body = (await (await fetch(`${base}/api/sensors`)).json()) as { features: { id: string; properties: { observed_at: string | null } }[] };
        shown = new Map(body.features.map((f) => [f.id, f.properties.observed_at ? Date.parse(f.properties.observed_at) : 0]));
        return [...newest].every(([id, ms]) => shown.get(id) === ms);
      },
      { timeoutMs: 20_000, intervalMs: 250, what: () => `the map to show each sensor's newest reading: want ${JSON.stringify([...newest])}, shown ${JSON.stringify([...shown])}` },
    );

    // One shared subscription: each reading went to one worker, so the one never killed stored only its share.
    const share = (await ingest2.metric('kansui_readings_accepted_total')) / acked;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.8);

    const extra = viewers.map((v) => v.events.filter((e) => e.event === 'reading').length - want.size);
    console.log(
      `multi-process: ${acked} readings from ${SENSORS} sensors stored once; ${VIEWERS} viewers (${reconnected} reconnected) caught up; ` +
        `ingest worker back in ${restartedInMs} ms; ingest-2 stored ${Math.round(share * 100)} %; reading events seen twice per viewer: ${extra.join(', ')}; ${phases.join(', ')}`,
    );
  }, 180_000);
});
