import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import {
  connectExternalSubscriber,
  installedMqttVersion,
  MQTT_PATCH_VERIFIED_VERSION,
  type ExternalSubscriber,
} from '../../services/broker/external-subscriber.ts';
import { createIngest } from '../../services/ingest/create-ingest.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The external-broker ingest holds PUBACKs through mqtt.js's private
 * `_sendPacket` (services/broker/external-subscriber.ts). These tests are the
 * tripwire for an mqtt upgrade (issue 16): the pin, the installed version and
 * the version the patch was read against must agree, and, watched on the
 * wire, no PUBACK leaves before its reading's store write has finished.
 */
describe('external broker ingest: the mqtt.js patch is pinned and still holds PUBACKs', () => {
  it('package.json pins mqtt exactly to the version the PUBACK hold was verified with, and that is the one installed', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.mqtt).toBe(MQTT_PATCH_VERIFIED_VERSION);
    expect(installedMqttVersion()).toBe(MQTT_PATCH_VERIFIED_VERSION);
  });

  // A bare MQTT 3.1.1 server made of mqtt-packet (what aedes parses with),
  // so the test sees every packet the subscriber writes, in order.
  let server: Server;
  let port: number;
  const fromClient: Packet[] = [];
  let socket: Socket | undefined;
  const send = (p: Record<string, unknown>) => socket!.write(mqttPacket.generate(p as unknown as Packet));

  // A store whose writes wait until the test lets them finish.
  const memory = createMemoryReadingStore();
  const held: Array<{ readings: Reading[]; release: () => void }> = [];
  const store = {
    ...memory,
    kind: 'held-memory',
    write(readings: Reading[]) {
      return new Promise<void>((release) => held.push({ readings: [...readings], release })).then(() => memory.write(readings));
    },
  };
  let subscriber: ExternalSubscriber;

  beforeAll(async () => {
    server = createServer((s) => {
      socket = s;
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p: Packet) => {
        fromClient.push(p);
        if (p.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
        else if (p.cmd === 'subscribe') send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 1) });
        else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      });
      s.on('data', (chunk) => parser.parse(chunk));
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;

    const registry = createMemorySensorRegistry();
    registry.create(createSensor({ id: 'pin-1', name: 'pin', lat: 34.27, lon: 135.4 }, Date.now()), { passwordHash: 'x' });
    const ingest = createIngest({ store, registry });
    await ingest.start();
    subscriber = await connectExternalSubscriber({ url: `mqtt://127.0.0.1:${port}`, clientId: 'kansui-pin-test', ingest, firstConnectTimeoutMs: 10_000 });
    await waitFor(() => fromClient.some((p) => p.cmd === 'subscribe'), { what: 'the subscription' });
  });
  afterAll(async () => {
    for (const h of held) h.release();
    await Promise.race([subscriber?.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
    socket?.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('sends no PUBACK while the reading is not yet stored, then one per reading in arrival order', async () => {
    const ts = Date.now() - 1000;
    for (const messageId of [11, 12, 13]) {
      send({ cmd: 'publish', topic: 'flood/pin-1/reading', payload: JSON.stringify({ ts: ts + messageId, level_cm: messageId }), qos: 1, messageId, dup: false, retain: false });
    }
    // mqtt.js has handed every PUBACK to `_sendPacket` before the ingest's
    // write starts; wait until all three readings are inside a held write.
    await waitFor(() => held.reduce((n, h) => n + h.readings.length, 0) === 3, { what: 'the three readings inside held store writes' });
    // A barrier on the same TCP stream: whatever the client wrote before it arrives first.
    subscriber.client.publish('kansui/test-barrier', 'x', { qos: 0 });
    await waitFor(() => fromClient.some((p) => p.cmd === 'publish' && p.topic === 'kansui/test-barrier'), { what: 'the barrier publish' });
    expect(fromClient.filter((p) => p.cmd === 'puback')).toEqual([]);

    for (const h of held) h.release();
    await waitFor(() => fromClient.filter((p) => p.cmd === 'puback').length === 3, { what: 'three PUBACKs after the commit' });
    expect(fromClient.filter((p) => p.cmd === 'puback').map((p) => p.messageId)).toEqual([11, 12, 13]);
    expect((await memory.range({ sensorId: 'pin-1', from: 0, to: Date.now() + 60_000 })).map((p) => p.levelCm)).toEqual([11, 12, 13]);
  });
});
