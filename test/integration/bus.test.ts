import { Aedes } from 'aedes';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type Bus, type BusMessage } from '../../services/bus/mqtt-bus.ts';
import { makeOrigin } from '../../services/bus/bus-events.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';

/** The bus adapter (issue 15) on a real broker (aedes in-process; the roles test runs it on Mosquitto). */
describe('bus: numbered events over MQTT QoS 1', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  let ingest: Bus;
  let web: Bus;
  const heard: BusMessage[] = [];
  const events: string[] = [];

  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const common = { url, clean: true, prefix: 'kansui/events' };
    web = await connectBus({ ...common, clientId: 'bus-test-web', origin: makeOrigin('web', 'w', 1), kind: 'web', consume: [{ kind: 'ingest' }], onMessage: (m) => heard.push(m), onEvent: (e) => events.push(e) });
    ingest = await connectBus({ ...common, clientId: 'bus-test-ingest', origin: makeOrigin('ingest', 'i', 2), kind: 'ingest', maxBatch: 2 });
  });
  afterAll(async () => {
    await ingest?.close();
    await web?.close();
    await new Promise<void>((r) => aedes.close(() => r()));
    server?.close();
  });

  it('a commit of readings goes out in batches and comes in as readings numbered s, s+1, …; other events take the next seq', async () => {
    // connectBus resolved once the web side's subscription was in place: nothing published from here on is missed.
    const readings = [1, 2, 3].map((n) => ({ sensorId: 's1', observedAt: 1_700_000_000_000 + n, levelCm: n, wetCm: [n] }));
    ingest.publishReadings(readings);
    ingest.publish('fault', { sensor_id: 's1', reason: 'tilt' });
    await ingest.flush();
    await waitFor(() => heard.length === 4, { what: () => `4 messages (got ${heard.length})` });
    expect(heard.map((m) => [m.origin, m.seq, m.kind, m.event])).toEqual([
      [ingest.origin, 1, 'ingest', 'reading'],
      [ingest.origin, 2, 'ingest', 'reading'],
      [ingest.origin, 3, 'ingest', 'reading'],
      [ingest.origin, 4, 'ingest', 'fault'],
    ]);
    expect(heard[2]).toMatchObject({ reading: { sensorId: 's1', levelCm: 3, wetCm: [3] } });
    expect(heard[3]).toMatchObject({ data: { sensor_id: 's1', reason: 'tilt' } });
    expect(ingest.pending()).toBe(0);
  });

  it('drops what is not a kansui event (not JSON, a bad envelope, readings that are not readings) and says so', async () => {
    const raw = await connectMqtt(url, { clientId: 'bus-test-raw' });
    try {
      const before = heard.length;
      await raw.publishAsync('kansui/events/ingest/readings', 'not json', { qos: 1 });
      await raw.publishAsync('kansui/events/ingest/readings', JSON.stringify({ o: 'x', s: 0, e: 'readings', d: [] }), { qos: 1 });
      await raw.publishAsync('kansui/events/ingest/readings', JSON.stringify({ o: 'ingest-x-1', s: 1, e: 'readings', d: [{ sensorId: 's1', levelCm: 'deep' }] }), { qos: 1 });
      await waitFor(() => events.filter((e) => e === 'bus-malformed').length === 3, { what: 'three malformed messages' });
      expect(heard.length).toBe(before);
    } finally {
      await raw.endAsync();
    }
  });
});
