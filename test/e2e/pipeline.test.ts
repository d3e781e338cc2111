import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSensorViaCli } from '../helpers/cli.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { openSse } from '../helpers/sse.ts';

describe('sensor → embedded broker → ingest → store → API and SSE', () => {
  let k: TestKansui;
  beforeAll(async () => {
    k = await startTestKansui();
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('a sensor registered through the CLI while the service runs can publish at once, and its reading shows in the API and on the SSE stream', async () => {
    const created = await addSensorViaCli(k.dataDir, ['--id', 'kinokawa-01', '--name', '打田駅前アンダーパス', '--lat', '34.2711', '--lon', '135.3952']);
    expect(created.id).toBe('kinokawa-01');
    expect(created.mqtt.username).toBe('kinokawa-01');
    expect(created.mqtt.password.length).toBeGreaterThanOrEqual(32);

    const sse = openSse(`${k.httpUrl}/api/events`);
    await sse.ready;
    const client = await connectMqtt(k.mqttUrl!, { username: created.mqtt.username, password: created.mqtt.password });
    const ts = new Date(Date.now() - 1000).toISOString();
    await publishReading(client, 'kinokawa-01', { ts, level_cm: 23.5, battery_v: 3.6 });

    // The PUBACK came back: the reading is already durable and visible.
    const feature = await (await fetch(`${k.httpUrl}/api/sensors/kinokawa-01`)).json();
    expect(feature.geometry.coordinates).toEqual([135.3952, 34.2711]);
    expect(feature.properties).toMatchObject({ name: '打田駅前アンダーパス', status: 'warning', level_cm: 23.5 });
    expect(Date.parse(feature.properties.observed_at)).toBe(Date.parse(ts));
    expect(feature.properties.observed_at).toMatch(/\+09:00$/);

    const event = await sse.waitFor((e) => e.event === 'reading');
    expect(JSON.parse(event.data)).toMatchObject({ sensor_id: 'kinokawa-01', level_cm: 23.5, status: 'warning' });
    expect(event.id).toBeTruthy();

    const history = await (await fetch(`${k.httpUrl}/api/sensors/kinokawa-01/readings`)).json();
    expect(history.sensor_id).toBe('kinokawa-01');
    expect(history.readings).toHaveLength(1);

    await client.endAsync();
    await sse.close();
  });
});
