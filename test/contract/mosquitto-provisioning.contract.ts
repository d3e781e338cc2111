import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialSink } from '../../services/sensors/credential-sink.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';

export interface ProvisionedBroker {
  /** The broker sensors and the ingest connect to. */
  url: string;
  /** The adapter under test. */
  sink: CredentialSink;
  /** The ingest's own login, already able to read flood/+/reading. */
  ingest: { username: string; password: string };
  stop(): Promise<void>;
}

/**
 * One contract for every way kansui provisions sensor logins into an external
 * Mosquitto (password file + SIGHUP, dynamic-security plugin), run against a
 * real Debian Mosquitto 2.0: what a sensor can do once issued, and that a
 * rotated or revoked login is cut off at once.
 */
export function describeMosquittoProvisioningContract(name: string, start: () => Promise<ProvisionedBroker>): void {
  describe(`Mosquitto provisioning contract: ${name}`, () => {
    let broker: ProvisionedBroker;
    let ingest: MqttClient;
    const received: string[] = [];
    const clients: MqttClient[] = [];

    beforeAll(async () => {
      broker = await start();
      ingest = await connectMqtt(broker.url, { ...broker.ingest, clientId: `contract-ingest-${Math.random().toString(16).slice(2, 8)}` });
      ingest.on('message', (topic, payload) => received.push(`${topic} ${payload}`));
      const [granted] = await ingest.subscribeAsync('flood/+/reading', { qos: 1 });
      expect(granted?.qos).toBe(1);
    });
    afterAll(async () => {
      for (const c of clients) c.end(true);
      ingest?.end(true);
      await broker?.stop();
    });

    /** Connect as a sensor, retrying until the broker has applied the change (a SIGHUP is handled asynchronously). */
    const connectWhenAccepted = (username: string, password: string) =>
      waitFor(
        () =>
          connectMqtt(broker.url, { username, password }).then(
            (c) => (clients.push(c), c),
            () => undefined,
          ),
        { what: `the broker to accept ${username}` },
      );
    const closed = (c: MqttClient) => new Promise<void>((r) => (c.disconnected || !c.connected ? r() : c.once('close', () => r())));

    it('an issued sensor publishes its own reading topic and the ingest gets it; another sensor’s topic is not delivered', async () => {
      await broker.sink.issued('c-1', 'pw-c-1-first');
      const sensor = await connectWhenAccepted('c-1', 'pw-c-1-first');
      await sensor.publishAsync('flood/c-2/reading', '{"level_cm":99}', { qos: 1 }).catch(() => {});
      const again = sensor.connected ? sensor : await connectWhenAccepted('c-1', 'pw-c-1-first');
      await again.publishAsync('flood/c-1/reading', '{"level_cm":1}', { qos: 1 });
      await waitFor(() => received.includes('flood/c-1/reading {"level_cm":1}'), { what: 'the ingest to receive the reading' });
      expect(received.filter((m) => m.startsWith('flood/c-2/'))).toEqual([]);
    });

    it('a sensor may subscribe under its own id; it never gets another sensor’s messages', async () => {
      await broker.sink.issued('c-sub', 'pw-c-sub');
      const sensor = await connectWhenAccepted('c-sub', 'pw-c-sub');
      const got: string[] = [];
      sensor.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
      const [own] = await sensor.subscribeAsync('flood/c-sub/#', { qos: 1 });
      expect(own?.qos).toBe(1);
      // Refused at SUBSCRIBE (dynamic security: SUBACK 0x80, which mqtt.js throws) or granted and never delivered (ACL file: read is checked per message).
      await sensor.subscribeAsync('flood/c-1/#', { qos: 1 }).catch(() => undefined);
      const other = await connectWhenAccepted('c-1', 'pw-c-1-first');
      await other.publishAsync('flood/c-1/reading', '{"level_cm":2}', { qos: 1 });
      await waitFor(() => received.includes('flood/c-1/reading {"level_cm":2}'), { what: 'the ingest to receive c-1' });
      // Routed after c-1's reading on the same broker thread: once it arrives, c-1's would have too.
      await sensor.publishAsync('flood/c-sub/reading', '{"level_cm":5}', { qos: 1 });
      await waitFor(() => got.includes('flood/c-sub/reading {"level_cm":5}'), { what: 'the sensor to receive its own topic' });
      expect(got).toEqual(['flood/c-sub/reading {"level_cm":5}']);
    });

    it('issuing again (rotation) cuts the live session, refuses the old password and accepts the new one', async () => {
      await broker.sink.issued('c-rot', 'pw-rot-old');
      const sensor = await connectWhenAccepted('c-rot', 'pw-rot-old');
      const cut = closed(sensor);
      await broker.sink.issued('c-rot', 'pw-rot-new');
      await cut;
      const fresh = await connectWhenAccepted('c-rot', 'pw-rot-new');
      await expect(connectMqtt(broker.url, { username: 'c-rot', password: 'pw-rot-old' })).rejects.toThrow(/not authori[sz]ed/i);
      await fresh.publishAsync('flood/c-rot/reading', '{"level_cm":7}', { qos: 1 });
      await waitFor(() => received.includes('flood/c-rot/reading {"level_cm":7}'), { what: 'a reading after rotation' });
    });

    it('revoking cuts the live session and refuses the login', async () => {
      await broker.sink.issued('c-rev', 'pw-rev');
      const sensor = await connectWhenAccepted('c-rev', 'pw-rev');
      const cut = closed(sensor);
      await broker.sink.revoked('c-rev');
      await cut;
      await expect(connectMqtt(broker.url, { username: 'c-rev', password: 'pw-rev' })).rejects.toThrow(/not authori[sz]ed/i);
    });

    it('sensors issued at the same moment all get their logins (no lost writes)', async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `c-many-${i}`);
      await Promise.all(ids.map((id) => broker.sink.issued(id, `pw-${id}`)));
      for (const id of ids) {
        const c = await connectWhenAccepted(id, `pw-${id}`);
        await c.publishAsync(`flood/${id}/reading`, '{"level_cm":3}', { qos: 1 });
      }
      await waitFor(() => ids.every((id) => received.includes(`flood/${id}/reading {"level_cm":3}`)), { what: 'a reading from every new sensor' });
    });

    it('a sensor named like the ingest’s login cannot take it over or remove it', async () => {
      await expect(broker.sink.issued(broker.ingest.username, 'a-password-a-technician-would-see')).rejects.toMatchObject({ code: 'conflict' });
      await expect(broker.sink.revoked(broker.ingest.username)).rejects.toMatchObject({ code: 'conflict' });
      const again = await connectMqtt(broker.url, { ...broker.ingest, clientId: `contract-ingest-check-${Math.random().toString(16).slice(2, 8)}` });
      again.end(true);
    });

    it('the ingest’s login may also read as a member of a shared subscription (several ingest workers)', async () => {
      const worker = await connectMqtt(broker.url, { ...broker.ingest, clientId: `contract-worker-${Math.random().toString(16).slice(2, 8)}` });
      try {
        const got: string[] = [];
        worker.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
        const [granted] = await worker.subscribeAsync('$share/kansui/flood/+/reading', { qos: 1 });
        expect(granted?.qos).toBe(1);
        await broker.sink.issued('c-shared', 'pw-c-shared');
        const sensor = await connectWhenAccepted('c-shared', 'pw-c-shared');
        await sensor.publishAsync('flood/c-shared/reading', '{"level_cm":6}', { qos: 1 });
        await waitFor(() => got.includes('flood/c-shared/reading {"level_cm":6}'), { what: 'the shared-subscription member to get the reading' });
      } finally {
        worker.end(true);
      }
    });

    it('the ingest’s login carries the roles’ bus (kansui/events/#, issue 15); a sensor can neither publish nor read there', async () => {
      const id = Math.random().toString(16).slice(2, 8);
      const listener = await connectMqtt(broker.url, { ...broker.ingest, clientId: `contract-bus-listen-${id}` });
      const publisher = await connectMqtt(broker.url, { ...broker.ingest, clientId: `contract-bus-pub-${id}` });
      try {
        const got: string[] = [];
        listener.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
        const [granted] = await listener.subscribeAsync('kansui/events/#', { qos: 1 });
        expect(granted?.qos).toBe(1);
        await broker.sink.issued('c-bus', 'pw-c-bus');
        const sensor = await connectWhenAccepted('c-bus', 'pw-c-bus');
        const spied: string[] = [];
        sensor.on('message', (topic) => spied.push(topic));
        await sensor.subscribeAsync('kansui/events/#', { qos: 1 }).catch(() => {});
        await sensor.publishAsync('kansui/events/core/status', '{"forged":true}', { qos: 1 }).catch(() => {});
        await publisher.publishAsync('kansui/events/core/status', '{"o":"core-x-1","s":1}', { qos: 1 });
        await waitFor(() => got.includes('kansui/events/core/status {"o":"core-x-1","s":1}'), { what: 'the bus event between two ingest-login clients' });
        // The sensor's own reading after its forged event: once the ingest has it, the forged one would have come first.
        const again = sensor.connected ? sensor : await connectWhenAccepted('c-bus', 'pw-c-bus');
        await again.publishAsync('flood/c-bus/reading', '{"level_cm":7}', { qos: 1 });
        await waitFor(() => received.includes('flood/c-bus/reading {"level_cm":7}'), { what: 'the ingest to receive c-bus' });
        expect(got.filter((m) => m.includes('forged'))).toEqual([]);
        expect(spied).toEqual([]);
      } finally {
        listener.end(true);
        publisher.end(true);
      }
    });

    it('the ingest’s own session stays up through all of this', () => {
      expect(ingest.connected).toBe(true);
    });
  });
}
