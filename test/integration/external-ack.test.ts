import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingStore } from '../../services/core/ports.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';

const INGEST = { username: 'kansui-ingest', password: 'ingest-secret-for-ack-tests' };

/**
 * The external-broker ingest acknowledges a reading to Mosquitto only once it
 * is durable, while still taking in many readings per group commit
 * (services/broker/external-subscriber.ts holds PUBACKs instead of pausing
 * mqtt.js's packet queue).
 */
describe('external broker: PUBACK after the commit, many readings per commit', () => {
  let mosquitto: RunningMosquitto;
  let k: TestKansui;
  const data = makeTempDir();
  const memory = createMemoryReadingStore();
  let failNext = 0;
  const batchSizes: number[] = [];
  const store: ReadingStore = {
    ...memory,
    kind: 'flaky-memory',
    async write(readings) {
      if (failNext > 0) {
        failNext--;
        throw new Error('disk on fire (test)');
      }
      batchSizes.push(readings.length);
      return memory.write(readings);
    },
  };
  let sensor: { username: string; password: string };

  beforeAll(async () => {
    mosquitto = await startMosquitto({ ingestUser: INGEST });
    k = await startTestKansui(
      { MQTT_URL: mosquitto.url, MQTT_USERNAME: INGEST.username, MQTT_PASSWORD: INGEST.password, MQTT_CLIENT_ID: 'kansui-ack-test' },
      { dataDir: data.dir, store },
    );
    sensor = registerSensor(k.registry, { id: 'ack-1', name: 'ack', lat: 34.27, lon: 135.4 }, Date.now()).mqtt;
    await mosquitto.addUser(sensor);
  });
  afterAll(async () => {
    await k?.stop();
    await mosquitto?.stop();
    data.remove();
  });

  const stored = async () => (await memory.range({ sensorId: 'ack-1', from: 0, to: Date.now() + 60_000 })).length;

  it('stores a burst in few commits (not one reading per commit)', async () => {
    const client = await waitFor(() => connectMqtt(mosquitto.url, sensor).catch(() => undefined), { what: 'sensor accepted by mosquitto' });
    const t0 = Date.now() - 60_000;
    await Promise.all(Array.from({ length: 500 }, (_, i) => client.publishAsync('flood/ack-1/reading', JSON.stringify({ ts: t0 + i, level_cm: 1 }), { qos: 1 })));
    await waitFor(async () => (await stored()) === 500, { what: '500 readings stored' });
    // With the packet queue paused per reading this was 500 commits of 1.
    expect(batchSizes.length).toBeLessThan(250);
    await client.endAsync();
  });

  it('a failed commit withholds the PUBACKs: the broker redelivers and nothing is lost', async () => {
    const before = await stored();
    const client = await connectMqtt(mosquitto.url, sensor);
    failNext = 1;
    const t0 = Date.now() - 30_000;
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.publishAsync('flood/ack-1/reading', JSON.stringify({ ts: t0 + i, level_cm: 2 }), { qos: 1 })));
    await waitFor(async () => (await stored()) - before === 50, { timeoutMs: 15_000, what: 'all 50 stored after the failed commit' });
    expect(failNext).toBe(0);
    expect(k.external?.connected()).toBe(true);
    await client.endAsync();
  });
});
