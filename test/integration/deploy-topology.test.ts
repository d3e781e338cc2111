import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoDynsecSink } from '../../services/broker/mosquitto-dynsec.ts';
import { createTestToken, createTestUser, TEST_PASSWORD } from '../helpers/console.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { startLineApiServer } from '../helpers/line-api-server.ts';
import { findDynsecPlugin, MOSQUITTO } from '../helpers/mosquitto.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { getFreePort } from '../helpers/ports.ts';
import { NGINX, startNginx, startRolesNginx, type RunningNginx } from '../helpers/nginx.ts';
import { buildIfStale } from '../helpers/process.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const DOCKER_COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find(existsSync);
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find(existsSync);
const SECRETS = { MOSQUITTO_ADMIN_PASSWORD: 'a', KANSUI_MQTT_PASSWORD: 'b', INFLUX_ADMIN_PASSWORD: 'c', INFLUX_TOKEN: 'd', GRAFANA_ADMIN_PASSWORD: 'e' };
const ROLE_SERVICES = { core: ['core'], ingest: ['ingest-1', 'ingest-2'], web: ['web-1', 'web-2'] } as const;

/**
 * YAML → JSON through PyYAML, which Debian's docker-compose depends on
 * (python3-yaml): the suite has no YAML parser of its own, and these files
 * are read only where docker-compose is installed.
 */
function parseYaml(text: string): unknown {
  const r = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`YAML did not parse: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: unknown;
  entrypoint?: unknown;
  environment?: Record<string, string | null>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/**
 * Issue 15: the shipped production topology. No container engine runs on the
 * build machines, so the images are not built here; the compose file is
 * validated by Debian's docker-compose (which needs no engine for `config`),
 * and the nginx and Mosquitto configuration it mounts are run for real.
 * .ci/run installs docker-compose and nginx; the tests skip only where the
 * binaries are missing.
 */
describe.skipIf(!DOCKER_COMPOSE)('deploy/compose.yaml', () => {
  const compose = (env: Record<string, string>) =>
    spawnSync(DOCKER_COMPOSE as string, ['-f', join(DEPLOY, 'compose.yaml'), 'config'], { cwd: DEPLOY, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, encoding: 'utf8', timeout: 60_000 });
  let services: Record<string, ComposeService>;
  const roleOf = (s: ComposeService) => s.environment?.KANSUI_ROLE;
  /** Host path of a bind mount `./x:/y` in the resolved config (absolute there). */
  const mountOf = (s: ComposeService, target: string) => s.volumes?.find((v) => v.split(':')[1] === target)?.split(':')[0];

  it('is valid: Mosquitto (dynamic security), InfluxDB, kansui in its roles from the Dockerfile, nginx, Prometheus and Grafana', () => {
    const r = compose(SECRETS);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const out = r.stdout;
    for (const service of ['mosquitto-init', 'mosquitto', 'influxdb', 'core', 'ingest-1', 'ingest-2', 'web-1', 'web-2', 'nginx', 'prometheus', 'grafana']) expect(out).toMatch(new RegExp(`^  ${service}:$`, 'm'));
    expect(out).toMatch(/MOSQUITTO_DYNSEC: ['"]?true/);
    expect(out).toMatch(/dockerfile: Dockerfile/);
    expect(out).toMatch(/condition: service_completed_successfully/);
    expect(out).not.toMatch(/--import tsx|npm ci/); // the image is built once, not installed at start
    services = (parseYaml(out) as { services: Record<string, ComposeService> }).services;
  });

  it('runs one core, two ingest workers and two web processes, all from the one image and sharing one data volume', () => {
    const kansui = Object.entries(services).filter(([, s]) => s.build?.dockerfile === 'Dockerfile' || s.image === 'kansui:latest');
    const byRole = (role: string) => kansui.filter(([, s]) => roleOf(s) === role).map(([name]) => name).sort();
    expect(byRole('core')).toEqual(ROLE_SERVICES.core);
    expect(byRole('ingest')).toEqual(ROLE_SERVICES.ingest);
    expect(byRole('web')).toEqual(ROLE_SERVICES.web);
    expect(kansui).toHaveLength(5); // no all-in-one process beside them
    for (const [name, s] of kansui) {
      expect(s.command, name).toBeUndefined();
      expect(s.environment?.MQTT_URL, name).toBe('mqtt://mosquitto:1883');
      expect(s.environment?.STORE, name).toBe('influx');
      expect(s.volumes, name).toContain('kansui-data:/var/lib/kansui:rw');
      // Only the core provisions sensors; the broker admin's password stays out of the others.
      expect(s.environment?.MOSQUITTO_DYNSEC_PASSWORD !== undefined, name).toBe(roleOf(s) === 'core');
    }
    // Ingest workers: one shared subscription, each its own persistent session.
    const ingest = ROLE_SERVICES.ingest.map((n) => services[n] as ComposeService);
    expect(ingest.map((s) => s.environment?.MQTT_SHARE_GROUP)).toEqual(['kansui', 'kansui']);
    expect(ingest.map((s) => s.environment?.MQTT_CLIENT_ID)).toEqual(['kansui-ingest-1', 'kansui-ingest-2']);
    expect(new Set(kansui.map(([, s]) => s.environment?.KANSUI_INSTANCE)).size).toBe(kansui.length);
  });

  it('nginx routes to every role service by name, and Prometheus scrapes each of them with its role', () => {
    const nginx = services.nginx as ComposeService;
    const conf = readFileSync(mountOf(nginx, '/etc/nginx/conf.d/default.conf') as string, 'utf8');
    expect(conf).toBe(readFileSync(join(DEPLOY, 'nginx/kansui-roles.conf'), 'utf8'));
    for (const [role, names] of Object.entries(ROLE_SERVICES)) {
      const block = new RegExp(`upstream kansui_${role} \\{([^}]*)\\}`).exec(conf)?.[1] ?? '';
      expect([...block.matchAll(/^\s*server ([^\s;]+)/gm)].map((m) => m[1]), role).toEqual(names.map((n) => `${n}:8080`));
      for (const n of names) expect(Object.keys(nginx.depends_on ?? {}), role).toContain(n);
    }
    const prometheus = parseYaml(readFileSync(mountOf(services.prometheus as ComposeService, '/etc/prometheus/prometheus.yml') as string, 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[]; labels: { role: string } }[] }[];
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'kansui');
    const scraped = Object.fromEntries((job?.static_configs ?? []).map((c) => [c.labels.role, c.targets]));
    expect(scraped).toEqual(Object.fromEntries(Object.entries(ROLE_SERVICES).map(([role, names]) => [role, names.map((n) => `${n}:8080`)])));
  });

  it('provisions Grafana: data sources and dashboards that exist, parse, and use only those data sources', () => {
    const grafana = services.grafana as ComposeService;
    const dsDir = mountOf(grafana, '/etc/grafana/provisioning/datasources') as string;
    const provDir = mountOf(grafana, '/etc/grafana/provisioning/dashboards') as string;
    const boardsDir = mountOf(grafana, '/var/lib/grafana/dashboards') as string;
    for (const dir of [dsDir, provDir, boardsDir]) expect(existsSync(dir), dir).toBe(true);
    const ds = parseYaml(readFileSync(join(dsDir, 'kansui.yaml'), 'utf8')) as { datasources: { uid: string; type: string; url: string; jsonData?: { dbName?: string } }[] };
    const uids = new Map(ds.datasources.map((d) => [d.uid, d]));
    expect(uids.get('kansui-influxdb')).toMatchObject({ type: 'influxdb', url: 'http://influxdb:8086', jsonData: { dbName: 'kansui' } });
    expect(uids.get('kansui-prometheus')).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const prov = parseYaml(readFileSync(join(provDir, 'kansui.yaml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    expect(prov.providers.map((p) => p.options.path)).toEqual(['/var/lib/grafana/dashboards']);

    const boards = readdirSync(boardsDir).filter((f) => f.endsWith('.json'));
    expect(boards.sort()).toEqual(['kansui-processes.json', 'kansui-readings.json']);
    for (const file of boards) {
      const board = JSON.parse(readFileSync(join(boardsDir, file), 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { datasource?: { uid: string } }[] } };
      expect(board.uid, file).toBe(file.replace(/\.json$/, ''));
      expect(board.panels.length, file).toBeGreaterThan(3);
      for (const panel of board.panels) {
        for (const ref of [panel.datasource, ...panel.targets.map((t) => t.datasource)]) expect(uids.has(ref.uid), `${file}: ${panel.title}`).toBe(true);
        for (const t of panel.targets) expect(t.query ?? t.expr, `${file}: ${panel.title}`).toBeTruthy();
      }
      for (const v of board.templating.list) if (v.datasource) expect(uids.has(v.datasource.uid)).toBe(true);
    }
  });

  it('refuses to run without its secrets, naming them', () => {
    const r = compose({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/MOSQUITTO_ADMIN_PASSWORD|INFLUX_ADMIN_PASSWORD|KANSUI_MQTT_PASSWORD|INFLUX_TOKEN|GRAFANA_ADMIN_PASSWORD/);
  });
});

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { datasource: { uid: string }; query?: string; expr?: string }[];
}

/**
 * The dashboards ask for what kansui writes: InfluxDB's schema (docs/influxdb.md)
 * and the metric names a running kansui serves on /metrics (or declares in its
 * sources, for the LINE metrics registered only with LINE configured).
 */
describe('deploy/grafana dashboards match what kansui writes', () => {
  let k: TestKansui;
  beforeAll(async () => {
    k = await startTestKansui();
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('every metric a dashboard queries exists; every InfluxQL query reads water_level fields of the schema', async () => {
    const served = new Set([...(await (await fetch(`${k.httpUrl}/metrics`)).text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string));
    const declared = new Set(
      execFileSync('grep', ['-rhoE', "name: 'kansui_[a-z0-9_]+'", join(ROOT, 'services')], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice("name: '".length, -1)),
    );
    const boardsDir = join(DEPLOY, 'grafana/dashboards');
    const missing: string[] = [];
    for (const file of readdirSync(boardsDir)) {
      const board = JSON.parse(readFileSync(join(boardsDir, file), 'utf8')) as { panels: Panel[] };
      for (const t of board.panels.flatMap((p) => p.targets)) {
        for (const m of (t.expr ?? '').matchAll(/\bkansui_[a-z0-9_]+/g)) {
          const name = m[0].replace(/_(bucket|sum|count)$/, '');
          if (!served.has(name) && !declared.has(name)) missing.push(`${file}: ${m[0]}`);
        }
        if (t.query) {
          expect(t.query).toMatch(/FROM "water_level"/);
          for (const f of t.query.matchAll(/\("([a-z_]+)"\)/g)) expect(['level_cm', 'distance_mm', 'battery_v', 'rssi_dbm', 'seq']).toContain(f[1]);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe.skipIf(!SYSTEMD_ANALYZE)('deploy/systemd units', () => {
  it('pass systemd-analyze verify, and what they start exists once built', () => {
    buildIfStale(ROOT);
    const units = readdirSync(join(DEPLOY, 'systemd')).filter((f) => f.endsWith('.service'));
    expect(units.sort()).toEqual(['kansui-core.service', 'kansui-ingest@.service', 'kansui-web@.service', 'kansui.service']);
    for (const unit of units) {
      const r = spawnSync(SYSTEMD_ANALYZE as string, ['verify', join(DEPLOY, 'systemd', unit)], { encoding: 'utf8', timeout: 60_000 });
      expect({ unit, status: r.status, stderr: r.stderr }).toEqual({ unit, status: 0, stderr: '' });
      // ExecStart runs from WorkingDirectory (/opt/kansui, the package root): the script must be in the build.
      const text = readFileSync(join(DEPLOY, 'systemd', unit), 'utf8');
      expect(/^WorkingDirectory=\/opt\/kansui$/m.test(text), unit).toBe(true);
      const script = /^ExecStart=\S+ .*?(\S+\.js)$/m.exec(text)?.[1] as string;
      expect(existsSync(join(ROOT, script)), `${unit}: ${script}`).toBe(true);
    }
  }, 240_000);
});

describe.skipIf(!NGINX)('deploy/nginx/kansui.conf: real nginx in front of kansui', () => {
  let k: TestKansui;
  let nginx: RunningNginx;
  let base: string;

  beforeAll(async () => {
    k = await startTestKansui();
    nginx = await startNginx(k.httpPort);
    expect(nginx.checked.stderr).toMatch(/syntax is ok/);
    base = nginx.url;
  });
  afterAll(async () => {
    await nginx?.stop();
    await k?.dispose();
  });

  it('passes the live stream through unbuffered: a single event arrives while the stream stays open', async () => {
    const sse = openSse(`${base}/api/events`);
    try {
      await sse.ready; // even the first few bytes came through: nothing waits for a buffer to fill
      k.hub.publish('status', { sensor_id: 'through-nginx', status: 'normal', previous: null });
      const e = await sse.waitFor((x) => x.event === 'status' && x.data.includes('through-nginx'));
      expect(JSON.parse(e.data)).toMatchObject({ sensor_id: 'through-nginx' });
    } finally {
      sse.close();
    }
  });

  it('micro-caches /api/sensors: a burst is answered from one upstream request, with kansui’s Cache-Control for the CDN', async () => {
    const burst = await Promise.all(Array.from({ length: 30 }, () => fetch(`${base}/api/sensors`)));
    for (const r of burst) {
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toMatch(/s-maxage=2, stale-while-revalidate=8/);
      await r.arrayBuffer();
    }
    const statuses = burst.map((r) => r.headers.get('x-cache-status'));
    expect(statuses.every((s) => s !== null)).toBe(true);
    // Served from nginx's copy: HIT, or on a slow machine a copy past its second (STALE/UPDATING while one request refreshes it).
    expect(statuses.filter((s) => s === 'HIT' || s === 'STALE' || s === 'UPDATING').length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 'MISS').length).toBeLessThan(burst.length / 2);
  });

  it('does not cache the console API or the stream', async () => {
    const res = await fetch(`${base}/api/events`, { signal: AbortSignal.timeout(5_000) });
    expect(res.headers.get('x-cache-status')).toBeNull();
    await res.body?.cancel();
    expect((await fetch(`${base}/api/config`)).headers.get('x-cache-status')).toBeNull();
  });
});

/**
 * deploy/nginx/kansui-roles.conf routes by role (issue 15). Three separate
 * kansui instances stand in each pool here, each with its own data, so where a
 * request went shows in its answer: a user exists only in the core's, an API
 * token only in the ingest's, and an event is published only by the web one.
 * (test/integration/multi-process.test.ts runs the same config in front of the
 * real roles.)
 */
describe.skipIf(!NGINX)('deploy/nginx/kansui-roles.conf: an upstream per role', () => {
  let core: TestKansui;
  let ingest: TestKansui;
  let web: TestKansui;
  let nginx: RunningNginx;
  let base: string;
  let line: Awaited<ReturnType<typeof startLineApiServer>>;

  beforeAll(async () => {
    // LINE only on the core, as the roles run it (a web process has none), against a LINE API fake on loopback.
    line = await startLineApiServer('roles-line-token');
    const lineEnv = { LINE_CHANNEL_TOKEN: 'roles-line-token', LINE_CHANNEL_SECRET: 'roles-line-secret-0123456789', LINE_API_BASE: line.baseUrl, ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${line.port}` };
    [core, ingest, web] = await Promise.all([startTestKansui(lineEnv), startTestKansui(), startTestKansui()]);
    nginx = await startRolesNginx({ core: [core.httpPort], ingest: [ingest.httpPort], web: [web.httpPort] });
    expect(nginx.checked.stderr).toMatch(/syntax is ok/);
    base = nginx.url;
  });
  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([core?.dispose(), ingest?.dispose(), web?.dispose()]);
    await line?.close();
  });

  it('sends writes to the core, webhooks to the ingest pool, reads and the live stream to the web pool; keeps /metrics private', async () => {
    await createTestUser(core, 'tech', 'technician');
    const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base }, body: JSON.stringify({ username: 'tech', password: TEST_PASSWORD }) });
    expect(signIn.status).toBe(200); // only the core knows this user
    // GET /api/line/status is a read, but LINE runs in the core: routed there, not to the web pool.
    await createTestUser(core, 'duty', 'staff');
    const staff = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base }, body: JSON.stringify({ username: 'duty', password: TEST_PASSWORD }) });
    const cookie = (staff.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const lineStatus = await fetch(`${base}/api/line/status`, { headers: { Cookie: cookie } });
    expect(lineStatus.status).toBe(200);
    expect(await lineStatus.json()).toHaveProperty('quota');

    const token = createTestToken(ingest, 'network-server', 'technician');
    const uplink = await fetch(`${base}/api/integrations/ttn`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(uplink.status).not.toBe(401); // only the ingest knows this token
    const elsewhere = await fetch(`${core.httpUrl}/api/integrations/ttn`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(elsewhere.status).toBe(401);

    const sse = openSse(`${base}/api/events`);
    try {
      await sse.ready;
      web.hub.publish('status', { sensor_id: 'from-the-web-pool', status: 'normal', previous: null });
      await sse.waitFor((e) => e.data.includes('from-the-web-pool'));
    } finally {
      await sse.close();
    }
    const sensors = await fetch(`${base}/api/sensors`);
    expect(sensors.status).toBe(200);
    expect(sensors.headers.get('x-cache-status')).toMatch(/MISS|HIT|STALE|UPDATING|EXPIRED/);
    await sensors.arrayBuffer();
    // A POST to the same path is a write: past the micro-cache to the core (which answers that no one signed in).
    const post = await fetch(`${base}/api/sensors`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base }, body: '{}' });
    expect(post.headers.get('x-cache-status')).toBeNull();
    expect([401, 403]).toContain(post.status);
    await post.arrayBuffer();

    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});

describe.skipIf(!findDynsecPlugin())('deploy/mosquitto/kansui-dynsec.conf on Debian’s Mosquitto', () => {
  const temp = makeTempDir('kansui-deploy-dynsec-');
  let child: ChildProcess;
  let url: string;
  const admin = { username: 'admin', password: 'deploy-admin-secret' };

  beforeAll(async () => {
    const port = await getFreePort();
    const data = join(temp.dir, 'data');
    mkdirSync(data);
    execFileSync('mosquitto_ctrl', ['dynsec', 'init', join(data, 'dynamic-security.json'), admin.username, admin.password], { stdio: 'ignore' });
    const conf = readFileSync(join(DEPLOY, 'mosquitto/kansui-dynsec.conf'), 'utf8')
      .replace(/^plugin .*$/m, `plugin ${findDynsecPlugin()}`)
      .replaceAll('/mosquitto/data/', `${data}/`)
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
    writeFileSync(join(temp.dir, 'mosquitto.conf'), `user root\n${conf}`);
    child = spawn(MOSQUITTO, ['-c', join(temp.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    url = `mqtt://127.0.0.1:${port}`;
    await waitFor(() => connectMqtt(url, admin).then((c) => (c.end(true), true), () => false), { what: 'mosquitto with the shipped dynsec config' });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    temp.remove();
  });

  it('runs as shipped: kansui provisions its ingest and a sensor through the admin that `mosquitto_ctrl dynsec init` made', async () => {
    const sink = mosquittoDynsecSink({ url, ...admin, ingest: { username: 'kansui-ingest', password: 'ingest-pw' } });
    try {
      await sink.prepareIngest();
      await sink.issued('deploy-1', 'sensor-pw');
      const ingest = await connectMqtt(url, { username: 'kansui-ingest', password: 'ingest-pw', clientId: 'deploy-dynsec-ingest' });
      const got: string[] = [];
      ingest.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
      await ingest.subscribeAsync('flood/+/reading', { qos: 1 });
      const sensor = await connectMqtt(url, { username: 'deploy-1', password: 'sensor-pw' });
      await sensor.publishAsync('flood/deploy-1/reading', '{"level_cm":4}', { qos: 1 });
      await waitFor(() => got.length > 0, { what: 'the reading at the ingest' });
      expect(got).toEqual(['flood/deploy-1/reading {"level_cm":4}']);
      await Promise.all([sensor.endAsync(), ingest.endAsync()]);
    } finally {
      await sink.close();
    }
  });
});
