import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const INGEST = { username: 'kansui-ingest', password: 'ingest-secret-for-tests' };

describe('external broker (Debian Mosquitto, MQTT_URL)', () => {
  let mosquitto: RunningMosquitto;
  let k: TestKansui | undefined;
  const data = makeTempDir();
  let sensor: { username: string; password: string };
  let other: { username: string; password: string };

  const start = () =>
    startTestKansui(
      { MQTT_URL: mosquitto.url, MQTT_USERNAME: INGEST.username, MQTT_PASSWORD: INGEST.password, MQTT_CLIENT_ID: 'kansui-test-ingest' },
      { dataDir: data.dir },
    );
  const history = async (id: string) =>
    (await (await fetch(`${k!.httpUrl}/api/sensors/${id}/readings?from=${Date.now() - 3_600_000}`)).json()).readings as { level_cm: number }[];

  beforeAll(async () => {
    mosquitto = await startMosquitto({ ingestUser: INGEST });
    k = await start();
    sensor = registerSensor(k.registry, { id: 'ext-1', name: '外部1', lat: 34.27, lon: 135.4 }, Date.now()).mqtt;
    other = registerSensor(k.registry, { id: 'ext-2', name: '外部2', lat: 34.27, lon: 135.41 }, Date.now()).mqtt;
    await mosquitto.addUser(sensor);
    await mosquitto.addUser(other);
  });
  afterAll(async () => {
    await k?.stop();
    await mosquitto?.stop();
    data.remove();
  });

  it('takes readings from sensors the broker authenticated, identity from the topic, through to the API and SSE', async () => {
    const sse = openSse(`${k!.httpUrl}/api/events`);
    await sse.ready;
    const c = await waitFor(() => connectMqtt(mosquitto.url, { username: sensor.username, password: sensor.password }).catch(() => undefined), {
      what: 'mosquitto to accept the new sensor after SIGHUP',
    });
    await publishReading(c, 'ext-1', { level_cm: 21 });
    const e = await sse.waitFor((ev) => ev.event === 'reading' && JSON.parse(ev.data).sensor_id === 'ext-1');
    expect(JSON.parse(e.data)).toMatchObject({ level_cm: 21, status: 'warning' });
    expect((await history('ext-1')).map((r) => r.level_cm)).toEqual([21]);
    const health = await (await fetch(`${k!.httpUrl}/healthz`)).json();
    expect(health.checks.broker).toBe(true);
    await c.endAsync();
    await sse.close();
  });

  it("the broker's ACL keeps a sensor from writing another sensor's topic", async () => {
    const c = await connectMqtt(mosquitto.url, { username: other.username, password: other.password });
    await c.publishAsync('flood/ext-1/reading', JSON.stringify({ level_cm: 99 }), { qos: 1 }); // Mosquitto acks and drops it
    await publishReading(c, 'ext-2', { level_cm: 5 }); // its own topic: delivered after the dropped one
    await waitFor(async () => (await history('ext-2')).length === 1, { what: 'own reading stored' });
    expect((await history('ext-1')).map((r) => r.level_cm)).toEqual([21]);
    await c.endAsync();
  });

  it('refuses an unknown user at the broker', async () => {
    await expect(connectMqtt(mosquitto.url, { username: 'ext-1', password: 'wrong' })).rejects.toThrow(/not authori[sz]ed|bad user/i);
  });

  it('gets the readings published while the ingest was down once it returns (persistent session, QoS 1)', async () => {
    await k!.stop();
    k = undefined;
    const c = await connectMqtt(mosquitto.url, { username: sensor.username, password: sensor.password });
    const base = Date.now() - 60_000;
    for (let i = 0; i < 20; i++) await publishReading(c, 'ext-1', { ts: base + i * 1000, level_cm: 30 + i });
    await c.endAsync();

    k = await start();
    await waitFor(async () => (await history('ext-1')).length === 21, { what: 'queued readings delivered', timeoutMs: 15_000 });
    const levels = (await history('ext-1')).map((r) => r.level_cm);
    // In time order: the 20 queued ones (older ts), then the first test's reading.
    expect(levels).toEqual([...Array.from({ length: 20 }, (_, i) => 30 + i), 21]);
  });
});
