import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { connectExternalSubscriber, type ExternalSubscriber } from '../../services/broker/external-subscriber.ts';
import { createIngest, type Ingest } from '../../services/ingest/create-ingest.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The external-broker ingest's own MQTT 3.1.1 subscriber
 * (services/broker/external-subscriber.ts, services/broker/mqtt-wire.ts),
 * watched on the wire of a bare broker made of mqtt-packet (what aedes
 * parses with): every packet the subscriber writes is seen, in order.
 * Mosquitto itself is in external-ack.test.ts and external-broker.test.ts.
 */
describe('external broker ingest: the subscriber on the wire', () => {
  interface Conn {
    socket: Duplex;
    packets: Packet[];
    send(p: Record<string, unknown>): void;
  }
  let server: Server;
  let wss: WebSocketServer;
  let port: number;
  const conns: Conn[] = [];
  /** What the fake broker answers a CONNECT with; a test may change it. */
  let connackCode = 0;
  let answerPings = true;

  const memory = createMemoryReadingStore();
  const held: Array<{ readings: Reading[]; release: () => void; fail: (err: Error) => void }> = [];
  let holdWrites = false;
  let failNext = 0;
  const store = {
    ...memory,
    kind: 'test-memory',
    async write(readings: Reading[]) {
      if (failNext > 0) {
        failNext--;
        throw new Error('disk on fire (test)');
      }
      if (holdWrites) await new Promise<void>((release, fail) => held.push({ readings: [...readings], release, fail }));
      return memory.write(readings);
    },
  };
  let ingest: Ingest;
  let registry: ReturnType<typeof createMemorySensorRegistry>;
  const rejected: string[] = [];
  const events: Array<{ event: string; detail: Record<string, unknown> }> = [];
  const subscribers: ExternalSubscriber[] = [];

  beforeAll(async () => {
    // One fake broker behind two listeners: TCP, and WebSocket with the subprotocol "mqtt" (MQTT 3.1.1 §6.0).
    const accept = (socket: Duplex) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const conn: Conn = { socket, packets: [], send: (p) => void (!socket.destroyed && socket.write(mqttPacket.generate(p as unknown as Packet))) };
      conns.push(conn);
      parser.on('packet', (p: Packet) => {
        conn.packets.push(p);
        if (p.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: connackCode, sessionPresent: false });
        else if (p.cmd === 'subscribe') conn.send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 1) });
        else if (p.cmd === 'pingreq' && answerPings) conn.send({ cmd: 'pingresp' });
      });
      socket.on('data', (chunk: Buffer) => parser.parse(chunk));
      socket.on('error', () => {});
    };
    server = createServer(accept);
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
    wss.on('connection', (ws) => accept(createWebSocketStream(ws)));
    await new Promise((r) => wss.once('listening', r));
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;

    registry = createMemorySensorRegistry();
    registry.create(createSensor({ id: 'wire-1', name: 'wire', lat: 34.27, lon: 135.4 }, Date.now()), { passwordHash: 'x' });
    ingest = createIngest({ store, registry });
    ingest.on('rejected', (reason) => rejected.push(reason));
    await ingest.start();
  });
  afterEach(async () => {
    holdWrites = false;
    for (const h of held.splice(0)) h.release();
    await Promise.all(subscribers.splice(0).map((s) => s.close()));
    for (const c of conns.splice(0)) c.socket.destroy();
    connackCode = 0;
    answerPings = true;
    events.length = 0;
    rejected.length = 0;
  });
  afterAll(async () => {
    await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  async function subscribe(extra: { shareGroup?: string; keepaliveS?: number; username?: string; password?: string; url?: string } = {}): Promise<Conn> {
    const s = await connectExternalSubscriber({
      url: `mqtt://127.0.0.1:${port}`, clientId: 'kansui-wire-test', ingest, reconnectMs: 50, firstConnectTimeoutMs: 10_000,
      onEvent: (event, detail) => events.push({ event, detail }), ...extra,
    });
    subscribers.push(s);
    return waitFor(() => conns.find((c) => c.packets.some((p) => p.cmd === 'subscribe')), { what: 'the subscription' });
  }
  const publish = (conn: Conn, messageId: number, body: unknown, topic = 'flood/wire-1/reading', qos = 1) =>
    conn.send({ cmd: 'publish', topic, payload: typeof body === 'string' ? body : JSON.stringify(body), qos, messageId, dup: false, retain: false });
  const pubacks = (conn: Conn) => conn.packets.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId);
  const levels = async () => (await memory.range({ sensorId: 'wire-1', from: 0, to: Date.now() + 60_000 })).map((p) => p.levelCm);

  it('connects with a persistent session (clean session off, MQTT 3.1.1) and its login, and subscribes at QoS 1', async () => {
    const conn = await subscribe({ username: 'kansui-ingest', password: 'pw', shareGroup: 'kansui' });
    const connect = conn.packets[0] as Packet & { cmd: 'connect' };
    expect(connect).toMatchObject({ cmd: 'connect', protocolVersion: 4, clean: false, clientId: 'kansui-wire-test', username: 'kansui-ingest', keepalive: 60 });
    expect(String(connect.password)).toBe('pw');
    const sub = conn.packets.find((p) => p.cmd === 'subscribe') as Packet & { cmd: 'subscribe' };
    expect(sub.subscriptions).toEqual([{ topic: '$share/kansui/flood/+/reading', qos: 1 }]);
  });

  it('sends no PUBACK while the readings are not yet stored, then one per reading in arrival order', async () => {
    holdWrites = true;
    const conn = await subscribe({ keepaliveS: 1 });
    const ts = Date.now() - 10_000;
    for (const id of [11, 12, 13]) publish(conn, id, { ts: ts + id, level_cm: id });
    await waitFor(() => held.reduce((n, h) => n + h.readings.length, 0) === 3, { what: 'the three readings inside held store writes' });
    // A barrier on the same TCP stream: the keep-alive PINGREQ written after this point arrives after anything written before it.
    const pings = conn.packets.filter((p) => p.cmd === 'pingreq').length;
    await waitFor(() => conn.packets.filter((p) => p.cmd === 'pingreq').length > pings, { what: 'a PINGREQ after the held writes' });
    expect(pubacks(conn)).toEqual([]);
    for (const h of held.splice(0)) h.release();
    await waitFor(() => pubacks(conn).length === 3, { what: 'three PUBACKs after the commit' });
    expect(pubacks(conn)).toEqual([11, 12, 13]);
    expect((await levels()).slice(-3)).toEqual([11, 12, 13]);
  });

  it('takes readings however the stream splits them: one byte per write, and many PUBLISHes in one write', async () => {
    const conn = await subscribe();
    const ts = Date.now() - 20_000;
    const one = mqttPacket.generate({ cmd: 'publish', topic: 'flood/wire-1/reading', payload: JSON.stringify({ ts, level_cm: 21 }), qos: 1, messageId: 21, dup: false, retain: false });
    for (const byte of one) {
      conn.socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r)); // let each byte leave as its own segment (not a wait for an outcome)
    }
    const many = Buffer.concat([22, 23, 24].map((id) => mqttPacket.generate({ cmd: 'publish', topic: 'flood/wire-1/reading', payload: JSON.stringify({ ts: ts + id, level_cm: id }), qos: 1, messageId: id, dup: false, retain: false })));
    conn.socket.write(many);
    await waitFor(() => pubacks(conn).length === 4, { what: 'four PUBACKs' });
    expect(pubacks(conn)).toEqual([21, 22, 23, 24]);
    expect(await levels()).toEqual(expect.arrayContaining([21, 22, 23, 24]));
  });

  it('a failed store write withholds its PUBACKs and drops the connection; the redelivery is stored and acknowledged', async () => {
    const conn = await subscribe();
    failNext = 1;
    const ts = Date.now() - 30_000;
    publish(conn, 31, { ts, level_cm: 31 });
    await waitFor(() => conn.socket.destroyed || conn.socket.readableEnded, { what: 'the subscriber to drop the connection' });
    expect(pubacks(conn)).toEqual([]);
    expect(events.some((e) => e.event === 'store-failed')).toBe(true);
    const again = await waitFor(() => conns.find((c) => c !== conn && c.packets.some((p) => p.cmd === 'subscribe')), { what: 'the subscriber back on a new connection' });
    publish(again, 31, { ts, level_cm: 31 }); // what the broker does with the unacknowledged message
    await waitFor(() => pubacks(again).includes(31), { what: 'the PUBACK of the redelivery' });
    expect(await levels()).toContain(31);
  });

  it('a registry that throws (its database failing) is a failed write: no PUBACK, the connection dropped, the process goes on', async () => {
    const conn = await subscribe();
    const get = registry.get;
    registry.get = () => {
      throw new Error('database is locked (test)');
    };
    try {
      publish(conn, 51, { ts: Date.now() - 1000, level_cm: 51 });
      await waitFor(() => conn.socket.destroyed || conn.socket.readableEnded, { what: 'the subscriber to drop the connection' });
    } finally {
      registry.get = get;
    }
    expect(pubacks(conn)).toEqual([]);
    expect(events.find((e) => e.event === 'store-failed')?.detail.error).toMatch(/database is locked/);
    const again = await waitFor(() => conns.find((c) => c !== conn && c.packets.some((p) => p.cmd === 'subscribe')), { what: 'the subscriber back' });
    publish(again, 51, { ts: Date.now() - 1000, level_cm: 51 });
    await waitFor(() => pubacks(again).includes(51), { what: 'the PUBACK of the redelivery' });
  });

  it('acknowledges what it refuses (an unknown topic, a malformed payload), counted, so the broker does not redeliver it forever; QoS 0 gets no PUBACK', async () => {
    const conn = await subscribe();
    publish(conn, 41, { level_cm: 1 }, 'flood/wire-1/other');
    publish(conn, 42, '{not json');
    publish(conn, 0, { ts: Date.now() - 1000, level_cm: 43 }, 'flood/wire-1/reading', 0);
    publish(conn, 44, { ts: Date.now() - 500, level_cm: 44 });
    await waitFor(() => pubacks(conn).length === 3, { what: 'three PUBACKs' });
    expect(pubacks(conn)).toEqual([41, 42, 44]);
    expect(rejected).toEqual(['unknown_topic', 'malformed_json']);
    expect(await levels()).toEqual(expect.arrayContaining([43, 44]));
  });

  it('works over a WebSocket too (ws:, subprotocol mqtt)', async () => {
    const conn = await subscribe({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/mqtt` });
    publish(conn, 61, { ts: Date.now() - 1000, level_cm: 61 });
    await waitFor(() => pubacks(conn).includes(61), { what: 'the PUBACK over the WebSocket' });
    expect(await levels()).toContain(61);
  });

  it('a refused login is reported with its reason and tried again', async () => {
    connackCode = 5;
    const pending = connectExternalSubscriber({
      url: `mqtt://127.0.0.1:${port}`, clientId: 'kansui-wire-test', ingest, reconnectMs: 50, firstConnectTimeoutMs: 200,
      onEvent: (event, detail) => events.push({ event, detail }),
    });
    const s = await pending;
    subscribers.push(s);
    await waitFor(() => conns.length >= 2, { what: 'a second attempt' });
    expect(s.connected()).toBe(false);
    expect(events.find((e) => e.event === 'error')?.detail.error).toMatch(/not authorized/);
    connackCode = 0;
    await waitFor(() => s.connected(), { what: 'connected once the broker accepts' });
  });

  it('a broker that stops answering keep-alives is left and connected again', async () => {
    answerPings = false;
    const conn = await subscribe({ keepaliveS: 1 });
    await waitFor(() => conn.socket.destroyed || conn.socket.readableEnded, { timeoutMs: 10_000, what: 'the silent connection dropped' });
    answerPings = true;
    await waitFor(() => conns.some((c) => c !== conn && c.packets.some((p) => p.cmd === 'subscribe')), { what: 'a new connection and subscription' });
  });
});
