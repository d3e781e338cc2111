import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { createTestToken } from '../helpers/console.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { startNetworkServerBroker, type NetworkServerBroker } from '../helpers/network-server-broker.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Issue 11 across a restart of kansui: a webhook the network server retries
 * after kansui restarted is still stored once, and a ChirpStack event
 * published at QoS 1 while kansui was down is delivered when it is back
 * (persistent session, fixed client id), as docs/devices.md says.
 */
describe('LoRaWAN integrations across a kansui restart (issue 11)', () => {
  const data = makeTempDir();
  let broker: NetworkServerBroker;
  let k: TestKansui | undefined;
  const start = () =>
    startTestKansui(
      { CHIRPSTACK_MQTT_URL: broker.url, CHIRPSTACK_MQTT_USERNAME: broker.chirpstackUser.username, CHIRPSTACK_MQTT_PASSWORD: broker.chirpstackUser.password, CHIRPSTACK_MQTT_CLIENT_ID: 'kansui-cs-restart' },
      { dataDir: data.dir },
    );
  const ready = (kansui: TestKansui) => waitFor(() => kansui.integrations.mqtt.every((m) => m.subscribed()), { what: 'ChirpStack subscription' });
  const uplink = (devEui: string, fCnt: number, distanceMm: number, time: string) => ({
    deduplicationId: randomUUID(),
    time,
    deviceInfo: { devEui, deviceName: 'ldds75', applicationId: 'app-1' },
    fPort: 2,
    fCnt,
    data: Buffer.from([0x0d, 0x3b, distanceMm >> 8, distanceMm & 0xff, 0, 0, 0, 1]).toString('base64'),
    rxInfo: [{ rssi: -100, snr: 5 }],
  });

  beforeAll(async () => {
    broker = await startNetworkServerBroker();
    k = await start();
    registerSensor(k.registry, { id: 'ldds-1', name: '側溝', lat: 35, lon: 139, mountHeightMm: 3000, devEui: 'A84041000181C8E1', codec: 'dragino-ldds75' }, Date.now());
    await ready(k);
  });
  afterAll(async () => {
    await k?.stop();
    await broker?.stop();
    data.remove();
  });

  it('a webhook retried after a restart is a duplicate, stored once', async () => {
    const token = createTestToken(k!, 'restart-tech', 'technician');
    const body = uplink('A84041000181C8E1', 10, 2799, new Date(Date.now() - 60_000).toISOString());
    const post = () => fetch(`${k!.httpUrl}/api/integrations/chirpstack?event=up`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    expect(await (await post()).json()).toMatchObject({ outcome: 'accepted', sensor_id: 'ldds-1' });
    await k!.stop();
    k = await start();
    await ready(k);
    expect(await (await post()).json()).toMatchObject({ outcome: 'duplicate' });
    const from = Date.parse(body.time) - 1000;
    const readings = (await (await fetch(`${k.httpUrl}/api/sensors/ldds-1/readings?from=${from}`)).json()).readings;
    expect(readings).toHaveLength(1);
  });

  it('when the store cannot make an uplink durable the webhook answers 5xx (the server retries) and the retry is taken', async () => {
    const store = createMemoryReadingStore();
    let failing = true;
    const write = store.write.bind(store);
    store.write = (readings) => (failing ? Promise.reject(new Error('disk full')) : write(readings));
    const other = await startTestKansui({}, { store });
    try {
      registerSensor(other.registry, { id: 'ldds-2', name: '側溝2', lat: 35, lon: 139, mountHeightMm: 3000, devEui: 'A84041000181C8E9', codec: 'dragino-ldds75' }, Date.now());
      const token = createTestToken(other, 'store-tech', 'technician');
      const body = uplink('A84041000181C8E9', 3, 2000, new Date().toISOString());
      const post = () => fetch(`${other.httpUrl}/api/integrations/chirpstack?event=up`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      expect((await post()).status).toBe(500);
      expect(other.ingest.latest.get('ldds-2')).toBeUndefined();
      failing = false;
      expect(await (await post()).json()).toMatchObject({ outcome: 'accepted' });
      expect(other.ingest.latest.get('ldds-2')).toMatchObject({ levelCm: 100 });
    } finally {
      await other.dispose();
    }
  });

  it('a ChirpStack event published at QoS 1 while kansui is down arrives when it is back', async () => {
    await k!.stop();
    k = undefined;
    const time = new Date().toISOString();
    await broker.publish('application/app-1/device/a84041000181c8e1/event/up', uplink('a84041000181c8e1', 11, 1500, time), 1);
    k = await start();
    const reading = await waitFor(() => (k!.ingest.latest.get('ldds-1')?.seq === 11 ? k!.ingest.latest.get('ldds-1') : undefined), { what: 'the queued uplink' });
    expect(reading).toMatchObject({ levelCm: 150, distanceMm: 1500, batteryV: 3.387, observedAt: Date.parse(time) });
  });
});
