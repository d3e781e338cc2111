import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRole, type Kansui, type KansuiProcess } from '../../services/app.ts';
import { hashPassword } from '../../services/auth/passwords.ts';
import { loadConfig } from '../../services/config.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { openSse, type SseEvent } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const INGEST = { username: 'kansui-ingest', password: 'ingest-secret-for-role-tests' };

/**
 * Issue 15: the roles as separate kansui processes (here in one test process,
 * each with its own ports, stores and bus client) on a real Mosquitto: one
 * core, two ingest workers on one shared subscription (MQTT_SHARE_GROUP), two web
 * processes, sharing DATA_DIR as on one machine.
 */
describe('roles: core + 2 ingest + 2 web over the broker as the bus', () => {
  let mosquitto: RunningMosquitto;
  const data = makeTempDir('kansui-roles-');
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const started: KansuiProcess[] = [];
  let core: Kansui;
  let ingest: KansuiProcess;
  let ingest2: KansuiProcess;
  /** A reading payload with a device time after every earlier one: two workers may store them in either order. */
  let lastTs = 0;
  const reading = (levelCm: number) => JSON.stringify({ level_cm: levelCm, ts: (lastTs = Math.max(Date.now(), lastTs + 1)) });
  let web1: Kansui;
  let web2: Kansui;
  let sensor: { username: string; password: string };
  const url = (k: KansuiProcess, path: string) => `http://127.0.0.1:${k.httpPort}${path}`;

  async function start(role: string, instance: string, extra: Record<string, string> = {}): Promise<KansuiProcess> {
    const config = loadConfig({
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: data.dir,
      LOG_LEVEL: 'silent',
      MQTT_URL: mosquitto.url,
      MQTT_USERNAME: INGEST.username,
      MQTT_PASSWORD: INGEST.password,
      MQTT_CLIENT_ID: `kansui-${role}-${instance}`,
      KANSUI_ROLE: role,
      KANSUI_INSTANCE: instance,
      ...extra,
    });
    const k = await startRole(config, { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), ...(role === 'core' && { now, sweepMs: 100 }) });
    started.push(k);
    return k;
  }

  beforeAll(async () => {
    mosquitto = await startMosquitto({ ingestUser: INGEST });
    core = (await start('core', 'c')) as Kansui;
    sensor = registerSensor(core.registry, { id: 'role-1', name: '役割テスト', lat: 34.27, lon: 135.4 }, Date.now()).mqtt;
    await mosquitto.addUser(sensor);
    web1 = (await start('web', 'w1')) as Kansui;
    web2 = (await start('web', 'w2')) as Kansui;
    ingest = await start('ingest', 'i1', { MQTT_SHARE_GROUP: 'kansui' });
    ingest2 = await start('ingest', 'i2', { MQTT_SHARE_GROUP: 'kansui' });
    await waitFor(() => started.every((k) => k.bus?.connected()), { what: 'every role on the bus' });
  }, 60_000);
  afterAll(async () => {
    for (const k of started.reverse()) await k.stop();
    await mosquitto?.stop();
    data.remove();
  });

  const readingOf = (e: SseEvent, level: number) => e.event === 'reading' && JSON.parse(e.data).sensor_id === 'role-1' && JSON.parse(e.data).level_cm === level;

  it('every role answers /healthz and /metrics on its own port; the config refuses a split role without MQTT_URL', async () => {
    for (const k of started) {
      const res = await fetch(url(k, '/healthz'));
      expect(res.status, `${k.role} /healthz`).toBe(200);
      const metrics = await fetch(url(k, '/metrics'));
      expect(metrics.status, `${k.role} /metrics`).toBe(200);
      expect(await metrics.text()).toMatch(/^kansui_readings_accepted_total /m);
    }
    expect(() => loadConfig({ KANSUI_ROLE: 'web' })).toThrow(/MQTT_URL: required when KANSUI_ROLE=web/);
  });

  it("a reading published to Mosquitto is stored by one ingest worker and reaches both web processes' streams once; each worker's /metrics counts its own", async () => {
    const a = openSse(url(web1, '/api/events'));
    const b = openSse(url(web2, '/api/events'));
    await Promise.all([a.ready, b.ready]);
    const client = await waitFor(() => connectMqtt(mosquitto.url, sensor).catch(() => undefined), { what: 'sensor accepted by mosquitto' });
    try {
      for (const level of [11, 12, 13]) await client.publishAsync('flood/role-1/reading', reading(level), { qos: 1 });
      const levels = (sse: typeof a) => sse.events.filter((e) => e.event === 'reading').map((e) => JSON.parse(e.data).level_cm as number);
      await waitFor(() => levels(a).length >= 3 && levels(b).length >= 3, { what: () => `3 readings on both (web1 ${levels(a)}, web2 ${levels(b)})` });
      // Each reading once on each web process, whichever worker stored it (the two may be heard in either order).
      expect(levels(a).sort()).toEqual([11, 12, 13]);
      expect(levels(b).sort()).toEqual([11, 12, 13]);
      // The broker gave each reading to one worker; each worker's /metrics counts what it stored itself.
      const accepted = async (k: KansuiProcess) => Number(/^kansui_readings_accepted_total (\d+)$/m.exec(await (await fetch(url(k, '/metrics'))).text())?.[1]);
      const [n1, n2] = [await accepted(ingest), await accepted(ingest2)];
      expect(n1 + n2).toBe(3);
      expect(n1).toBeGreaterThan(0);
      expect(n2).toBeGreaterThan(0);
      // Web processes keep their own latest: /api/sensors there shows it.
      const sensors = await (await fetch(url(web2, '/api/sensors'))).json();
      expect(sensors.features.find((f: { id: string }) => f.id === 'role-1').properties).toMatchObject({ level_cm: 13 });
    } finally {
      await client.endAsync();
      await a.close();
      await b.close();
    }
  });

  it('a client resumes on the other web process with its Last-Event-ID and misses nothing, gets nothing twice', async () => {
    const a = openSse(url(web1, '/api/events'));
    await a.ready;
    const client = await waitFor(() => connectMqtt(mosquitto.url, sensor).catch(() => undefined), { what: 'sensor accepted by mosquitto' });
    try {
      for (const level of [21, 22]) await client.publishAsync('flood/role-1/reading', reading(level), { qos: 1 });
      // The two workers' readings may come in either order: the client's position is the last event it got.
      await a.waitFor((e) => readingOf(e, 21));
      await a.waitFor((e) => readingOf(e, 22));
      const last = a.events.filter((e) => e.id !== undefined).at(-1) as SseEvent;
      await a.close();
      // Missed while away (web1 is gone for this client): 23..26, all heard by web2 before the client comes back.
      const watcher = openSse(url(web2, '/api/events'));
      await watcher.ready;
      for (const level of [23, 24, 25, 26]) await client.publishAsync('flood/role-1/reading', reading(level), { qos: 1 });
      for (const level of [23, 24, 25, 26]) await watcher.waitFor((e) => readingOf(e, level));
      await watcher.close();
      const b = openSse(url(web2, '/api/events'), { 'Last-Event-ID': last.id! });
      await b.ready;
      await client.publishAsync('flood/role-1/reading', reading(27), { qos: 1 });
      await b.waitFor((e) => readingOf(e, 27));
      await b.close();
      expect(b.events.some((e) => e.event === 'resync')).toBe(false);
      expect(b.events.filter((e) => e.event === 'reading').map((e) => JSON.parse(e.data).level_cm).sort()).toEqual([23, 24, 25, 26, 27]);
    } finally {
      await client.endAsync();
    }
  });

  it("a status change found by the core's sweep reaches the web processes' streams", async () => {
    const b = openSse(url(web2, '/api/events'));
    await b.ready;
    // Every reading published so far has reached the core first: one arriving after the clock moved would carry the
    // change to offline inside the core's own reading event, and the sweep would then find nothing to announce
    // (seen once in a full run with the cores saturated).
    await waitFor(() => core.ingest.latest.get('role-1')?.observedAt === lastTs, { what: 'the last reading on the core' });
    // The core's clock moves an hour on: the sensor has been silent past 3 × its interval.
    clockOffset = 3600_000;
    const e = await b.waitFor((ev) => ev.event === 'status' && JSON.parse(ev.data).sensor_id === 'role-1', { timeoutMs: 15_000, what: 'the offline status from the core' });
    expect(JSON.parse(e.data)).toMatchObject({ status: 'offline' });
    await b.close();
    clockOffset = 0;
  });

  it('a write answered by the core shows on the web processes at once: a closure (live event and API) and an alert recipient', async () => {
    const user = core.users.create('role-staff', 'staff', null);
    const token = core.users.issueToken(user.id, 'test').token;
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const b = openSse(url(web2, '/api/events'));
    await b.ready;
    const closed = await fetch(url(core, '/api/closures'), { method: 'POST', headers: auth, body: JSON.stringify({ sensor: 'role-1', reason: '冠水のため通行止め（テスト）' }) });
    expect(closed.status).toBe(201);
    const e = await b.waitFor((ev) => ev.event === 'closure', { what: 'the closure event from the core' });
    expect(JSON.parse(e.data)).toMatchObject({ event: 'closed', sensor_id: 'role-1' });
    for (const web of [web1, web2]) {
      const list = await (await fetch(url(web, '/api/closures'))).json();
      expect(list.closures.map((c: { sensor_id: string }) => c.sensor_id)).toEqual(['role-1']);
    }
    const added = await fetch(url(core, '/api/alert-recipients'), { method: 'POST', headers: auth, body: JSON.stringify({ channel: 'webhook', target: 'https://hooks.example.org/kansui' }) });
    expect(added.status).toBe(201);
    await waitFor(
      async () => {
        const r = await (await fetch(url(web1, '/api/alert-recipients'), { headers: auth })).json();
        return r.recipients.some((x: { target: string }) => x.target === 'https://hooks.example.org/kansui');
      },
      { what: 'the recipient on web1' },
    );
    // The core's notice to the web processes is no event for browsers.
    await b.close();
    expect(b.events.filter((ev) => ev.event === 'changed')).toEqual([]);
  });

  it("a reading the ingest worker refuses shows in the console's sensor health on the web processes and the core; the web stream keeps its sequence whole", async () => {
    const user = core.users.create('role-tech-2', 'technician', null);
    const token = core.users.issueToken(user.id, 'test').token;
    const a = openSse(url(web1, '/api/events'));
    await a.ready;
    const before = await a.waitFor((e) => e.id !== undefined, { what: 'the position block' });
    const client = await waitFor(() => connectMqtt(mosquitto.url, sensor).catch(() => undefined), { what: 'sensor accepted by mosquitto' });
    try {
      await client.publishAsync('flood/role-1/reading', JSON.stringify({ level_cm: 'high' }), { qos: 1 });
      for (const k of [web1, web2, core]) {
        await waitFor(
          async () => {
            const list = await (await fetch(url(k, '/api/console/sensors'), { headers: { Authorization: `Bearer ${token}` } })).json();
            return list.sensors?.find((x: { id: string }) => x.id === 'role-1')?.lastRejected?.reason;
          },
          { what: `the refusal in the sensor health of the ${k.role} on ${k.httpPort}` },
        );
      }
      await client.publishAsync('flood/role-1/reading', reading(31), { qos: 1 });
      await a.waitFor((e) => readingOf(e, 31));
      await a.close();
      // The refusal message took a seq of the ingest worker's: resuming from before it replays the reading, no resync.
      const b = openSse(url(web2, '/api/events'), { 'Last-Event-ID': before.id! });
      await b.waitFor((e) => readingOf(e, 31));
      await b.close();
      expect(b.events.some((e) => e.event === 'resync')).toBe(false);
    } finally {
      await client.endAsync();
    }
  });

  it('staff sign in on the core and are signed in on every web process (sessions in the shared kansui.db); signing out ends it there too', async () => {
    core.users.create('role-tech', 'technician', await hashPassword('correct horse battery staple'));
    const res = await fetch(url(core, '/api/session'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: url(core, '') },
      body: JSON.stringify({ username: 'role-tech', password: 'correct horse battery staple' }),
    });
    expect(res.status).toBe(200);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
    for (const web of [web1, web2]) {
      const me = await fetch(url(web, '/api/session'), { headers: { Cookie: cookie } });
      expect(me.status, `session on ${web.httpPort}`).toBe(200);
    }
    const out = await fetch(url(core, '/api/session'), { method: 'DELETE', headers: { Cookie: cookie, Origin: url(core, '') } });
    expect(out.status).toBeLessThan(300);
    expect((await fetch(url(web1, '/api/session'), { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it('the core restarted by its supervisor misses no reading: the broker kept its session while it was down', async () => {
    const client = await waitFor(() => connectMqtt(mosquitto.url, sensor).catch(() => undefined), { what: 'sensor accepted by mosquitto' });
    try {
      await core.stop();
      started.splice(started.indexOf(core), 1);
      // Stored by the ingest worker and seen by the web processes while there is no core.
      await client.publishAsync('flood/role-1/reading', reading(41), { qos: 1 });
      await waitFor(() => web1.ingest.latest.get('role-1')?.levelCm === 41, { what: 'the reading on web1' });
      core = (await start('core', 'c')) as Kansui;
      // Processed, not just found in the store at start: the core's own stream has the reading's event since its boot.
      const processed = () => {
        const boot = core.hub.lastId().split('-')[0];
        const sub = core.hub.subscribe(() => {}, `${boot}-0`);
        sub.unsubscribe();
        return sub.missed.some((e) => e.event === 'reading' && JSON.parse(e.data).level_cm === 41);
      };
      await waitFor(processed, { what: 'the restarted core to process the reading published while it was down' });
      // And it goes on hearing new ones.
      await client.publishAsync('flood/role-1/reading', reading(42), { qos: 1 });
      await waitFor(() => core.ingest.latest.get('role-1')?.levelCm === 42, { what: 'the next reading on the core' });
    } finally {
      await client.endAsync();
    }
  });

  it("the ingest worker takes the network servers' webhooks with a technician's API token (and refuses them without)", async () => {
    const tech = core.users.create('role-webhook', 'technician', null);
    const token = core.users.issueToken(tech.id, 'ttn webhook').token;
    const post = (headers: Record<string, string>) =>
      fetch(url(ingest, '/api/integrations/ttn'), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ join_accept: {}, end_device_ids: { dev_eui: '70B3D57ED0000001' } }) });
    expect((await post({ Authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await post({})).status).toBe(401);
  });

  it('a web process started later shows the trend the others show (its window filled from the store)', async () => {
    const client = await waitFor(() => connectMqtt(mosquitto.url, sensor).catch(() => undefined), { what: 'sensor accepted by mosquitto' });
    try {
      // 30 s apart (device time, within the 5-minute skew allowed): a trend needs a minute of readings (services/core/trend.ts).
      for (const level of [50, 52, 54, 56]) await client.publishAsync('flood/role-1/reading', JSON.stringify({ level_cm: level, ts: (lastTs = Math.max(lastTs, Date.now()) + 30_000) }), { qos: 1 });
      const trendOn = async (k: KansuiProcess) => (await (await fetch(url(k, '/api/sensors/role-1'))).json()).properties;
      await waitFor(async () => (await trendOn(web1)).level_cm === 56, { what: 'the last reading on web1' });
      const web3 = await start('web', 'w3');
      const expected = (await trendOn(web1)).trend;
      expect(expected).not.toBeNull();
      await waitFor(async () => JSON.stringify((await trendOn(web3)).trend) === JSON.stringify(expected), { what: `web3's trend to be web1's ${JSON.stringify(expected)}` });
    } finally {
      await client.endAsync();
    }
  });

  it('a web process refuses writes with 405 and says where they go; the ingest worker serves no map', async () => {
    const res = await fetch(url(web1, '/api/closures'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await res.json()).error.message).toMatch(/core/);
    expect((await fetch(url(web1, '/api/sensors'))).status).toBe(200);
    expect((await fetch(url(ingest, '/api/sensors'))).status).toBe(404);
  });
});
