import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoDynsecSink } from '../../services/broker/mosquitto-dynsec.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { findDynsecPlugin, MOSQUITTO } from '../helpers/mosquitto.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { getFreePort } from '../helpers/ports.ts';
import { NGINX, startNginx, type RunningNginx } from '../helpers/nginx.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const DOCKER_COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find(existsSync);
const SECRETS = { MOSQUITTO_ADMIN_PASSWORD: 'a', KANSUI_MQTT_PASSWORD: 'b', INFLUX_ADMIN_PASSWORD: 'c', INFLUX_TOKEN: 'd' };

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

  it('is valid: Mosquitto (dynamic security), InfluxDB, kansui from the Dockerfile and nginx in front', () => {
    const r = compose(SECRETS);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const out = r.stdout;
    for (const service of ['mosquitto-init', 'mosquitto', 'influxdb', 'kansui', 'nginx']) expect(out).toMatch(new RegExp(`^  ${service}:$`, 'm'));
    expect(out).toMatch(/MOSQUITTO_DYNSEC: ['"]?true/);
    expect(out).toMatch(/dockerfile: Dockerfile/);
    expect(out).toMatch(/condition: service_completed_successfully/);
    expect(out).not.toMatch(/--import tsx|npm ci/); // the image is built once, not installed at start
  });

  it('refuses to run without its secrets, naming them', () => {
    const r = compose({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/MOSQUITTO_ADMIN_PASSWORD|INFLUX_ADMIN_PASSWORD|KANSUI_MQTT_PASSWORD|INFLUX_TOKEN/);
  });
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
