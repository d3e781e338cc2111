import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { execFile } from 'node:child_process';
import { connect as connectTcp, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';
import { collectGarbage } from '../helpers/gc.ts';

/**
 * Issue 10, MQTT items 3–7: each attack against the real service (embedded
 * aedes on loopback, raw sockets or mqtt.js clients), refused, with a good
 * sensor's traffic around it still stored.
 */

const execFileAsync = promisify(execFile);

async function metric(k: TestKansui, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${k.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}
const rejected = (k: TestKansui, reason: string) => metric(k, 'kansui_readings_rejected_total', `{reason="${reason}"}`);
const refusedConnections = (k: TestKansui, reason: string) => metric(k, 'kansui_mqtt_connections_refused_total', `{reason="${reason}"}`);

async function storedLevels(k: TestKansui, sensorId: string, from: number, to: number): Promise<number[]> {
  const body = await (await fetch(`${k.httpUrl}/api/sensors/${sensorId}/readings?from=${from}&to=${to}`)).json();
  return (body.readings as { level_cm: number }[]).map((r) => r.level_cm).sort((a, b) => a - b);
}

function rawSocket(port: number): { socket: Socket; closed: Promise<void>; connected: Promise<void> } {
  const socket = connectTcp(port, '127.0.0.1');
  socket.on('error', () => {}); // a reset from the broker is what these tests provoke
  // Plain listeners, not events.once(): that rejects on the 'error' a reset emits first.
  const event = (name: string) => new Promise<void>((r) => socket.once(name, () => r()));
  return { socket, closed: event('close'), connected: event('connect') };
}

/** Resolve after `ms`, or when `p` settles: a deadline for a wait, never a synchronisation sleep. */
function deadline<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

function connectPacket(o: { clientId: string; username?: string; password?: string; clean?: boolean }): Buffer {
  return mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: o.clean ?? true, clientId: o.clientId, keepalive: 30,
    ...(o.username !== undefined && { username: o.username }),
    ...(o.password !== undefined && { password: Buffer.from(o.password) }),
  });
}

/** A good sensor that keeps publishing while an attack runs; `stop()` resolves the levels it sent. */
function keepPublishing(client: MqttClient, sensorId: string, t0: number) {
  let running = true;
  let n = 0;
  const sent: number[] = [];
  const loop = (async () => {
    while (running) {
      n++;
      await publishReading(client, sensorId, { ts: t0 + n, level_cm: n });
      sent.push(n);
    }
  })();
  return {
    count: () => sent.length,
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

describe('MQTT attacks against the embedded broker (issue 10, items 3–7)', () => {
  let k: TestKansui;
  const creds: Record<string, { username: string; password: string }> = {};
  const NOW = Date.now();

  beforeAll(async () => {
    // Rate and connection limits out of the way here (item 6 has its own service below).
    k = await startTestKansui({ MQTT_CONNECT_TIMEOUT_S: '0.5', MQTT_SENSOR_RATE_PER_MIN: '6000000', MQTT_SENSOR_BURST: '1000000', MQTT_MAX_CONNECTIONS_PER_SENSOR: '100' });
    for (const id of ['good', 'alice', 'bob']) {
      creds[id] = registerSensor(k.registry, { id, name: id, lat: 34.27, lon: 135.4 }, NOW).mqtt;
    }
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('3. drops a CONNECT that declares 256 MB before buffering it; RSS stays flat and a good sensor keeps storing', async () => {
    const good = await connectMqtt(k.mqttUrl!, { ...creds.good, clientId: 'good' });
    const publisher = keepPublishing(good, 'good', NOW - 600_000);
    await waitFor(() => publisher.count() >= 5, { what: 'good sensor publishing' });
    const before = await refusedConnections(k, 'packet_too_large');
    collectGarbage();
    const rss0 = process.memoryUsage().rss;

    // Two anonymous connections, as in the report: a CONNECT fixed header
    // declaring 268,435,455 bytes (the §2.2.3 maximum), then the body streamed
    // with backpressure until the broker hangs up or 64 MB have gone out.
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const attack = async () => {
      const { socket, closed, connected } = rawSocket(k.mqttPort!);
      await connected;
      let isClosed = false;
      void closed.then(() => (isClosed = true));
      let sent = 0;
      socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      while (!isClosed && sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
      }
      const outcome = await deadline(closed, 5_000);
      socket.destroy();
      return { sent, outcome };
    };
    const results = await Promise.all([attack(), attack()]);
    // What is retained: the bug kept the buffered body for good (+147 MB); garbage a loaded machine has not collected yet is not that.
    collectGarbage();
    const rss1 = process.memoryUsage().rss;
    const sent = await publisher.stop();

    for (const r of results) {
      expect(r.outcome).not.toBe('timeout');
      // What left this process before the hang-up sat in the two kernels' socket buffers, never in aedes.
      expect(r.sent).toBeLessThan(16 * 1024 * 1024);
    }
    console.info(`[item 3] bytes written before the hang-up: ${results.map((r) => r.sent).join(', ')}; RSS ${(rss0 / 2 ** 20).toFixed(1)} → ${(rss1 / 2 ** 20).toFixed(1)} MB`);
    // Measured here: +3 to +5 MB (the good sensor's readings included); before the fix +147 MB.
    expect(rss1 - rss0).toBeLessThan(16 * 1024 * 1024);
    expect(await refusedConnections(k, 'packet_too_large')).toBe(before + 2);
    // The good sensor's readings, published all through the attack, are all stored.
    expect(await storedLevels(k, 'good', NOW - 700_000, NOW)).toEqual(sent);
    expect(good.connected).toBe(true);
    await good.endAsync();
  });

  it('3. drops a malformed Remaining Length (a 5th length byte, §2.2.3) and a socket that never sends CONNECT', async () => {
    const malformed = rawSocket(k.mqttPort!);
    await malformed.connected;
    malformed.socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]));
    expect(await deadline(malformed.closed, 5_000)).not.toBe('timeout');

    // MQTT_CONNECT_TIMEOUT_S=0.5 for this service (default 10; aedes' own default is 30 s).
    const silentBefore = await refusedConnections(k, 'connect_timeout');
    const silent = rawSocket(k.mqttPort!);
    await silent.connected;
    expect(await deadline(silent.closed, 5_000)).not.toBe('timeout');
    await waitFor(async () => (await refusedConnections(k, 'connect_timeout')) === silentBefore + 1, { what: 'connect timeout counted' });

    const c = await connectMqtt(k.mqttUrl!, { ...creds.good, clientId: 'good' });
    await publishReading(c, 'good', { ts: NOW - 500_000, level_cm: 77 });
    expect(await storedLevels(k, 'good', NOW - 500_001, NOW - 499_999)).toEqual([77]);
    await c.endAsync();
  });

  it("4. a sensor cannot use another sensor's client id: refused with CONNACK 2, the victim stays connected and keeps its session", async () => {
    const bob = await connectMqtt(k.mqttUrl!, { ...creds.bob, clientId: 'bob', clean: false });
    await bob.subscribeAsync('flood/bob/#', { qos: 1 });
    let bobClosed = false;
    bob.on('close', () => (bobClosed = true));
    const before = await refusedConnections(k, 'client_id_not_allowed');

    for (const clientId of ['bob', 'bob/x', 'bob-01', 'mqttjs_1234']) {
      for (const clean of [true, false]) {
        await expect(connectMqtt(k.mqttUrl!, { ...creds.alice, clientId, clean })).rejects.toThrow(/identifier rejected/i);
      }
    }
    // The same through a raw socket: CONNACK return code 2, sessionPresent 0 [MQTT-3.2.2-4].
    const raw = rawSocket(k.mqttPort!);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise<{ returnCode: number; sessionPresent: boolean }>((r) => parser.on('packet', (p) => p.cmd === 'connack' && r(p as never)));
    raw.socket.on('data', (d) => parser.parse(d));
    await raw.connected;
    raw.socket.write(connectPacket({ clientId: 'bob', clean: false, ...creds.alice }));
    expect(await connack).toMatchObject({ returnCode: 2, sessionPresent: false });
    await raw.closed;
    expect(await refusedConnections(k, 'client_id_not_allowed')).toBe(before + 9);

    // Bob was never taken over, and his own id and `bob/…` ids still work for him.
    expect(bobClosed).toBe(false);
    await publishReading(bob, 'bob', { ts: NOW - 400_000, level_cm: 40 });
    const tool = await connectMqtt(k.mqttUrl!, { ...creds.bob, clientId: 'bob/diagnostics' });
    await tool.endAsync();
    expect(bobClosed).toBe(false);
    // Alice with her own id is fine, also with the README's mosquitto_pub command; without -i it is refused.
    const alice = await connectMqtt(k.mqttUrl!, { ...creds.alice, clientId: 'alice' });
    await alice.endAsync();
    const pub = (extra: string[]) =>
      execFileAsync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(k.mqttPort), ...extra, '-u', 'alice', '-P', creds.alice!.password, '-q', '1', '-t', 'flood/alice/reading', '-m', `{"ts":${NOW - 450_000},"level_cm":45}`]);
    await pub(['-i', 'alice']);
    expect(await storedLevels(k, 'alice', NOW - 450_001, NOW - 449_999)).toEqual([45]);
    await expect(pub([])).rejects.toThrow();
    await bob.endAsync();
  });

  it("5. a refused publish is delivered to no-one: alice's posts into bob's topics never reach bob, and cannot kick him", async () => {
    const bob = await connectMqtt(k.mqttUrl!, { ...creds.bob, clientId: 'bob' });
    let bobClosed = false;
    bob.on('close', () => (bobClosed = true));
    const received: string[] = [];
    bob.on('message', (topic) => received.push(topic));
    await bob.subscribeAsync('flood/bob/#', { qos: 1 });
    const alice = await connectMqtt(k.mqttUrl!, { ...creds.alice, clientId: 'alice' });
    const before = { notAllowed: await rejected(k, 'topic_not_allowed'), unknown: await rejected(k, 'unknown_topic') };

    await alice.publishAsync('flood/bob/config', '{"interval_s":1}', { qos: 1 });
    await alice.publishAsync('flood/bob/reading', JSON.stringify({ level_cm: 99 }), { qos: 1 });
    await alice.publishAsync('flood/bob/config', 'x', { qos: 0 });
    // aedes closes the client named in a $SYS/<other broker>/new/clients message (its cluster takeover).
    await alice.publishAsync('$SYS/another-broker/new/clients', 'bob', { qos: 1 });
    await publishReading(alice, 'alice', { ts: NOW - 300_000, level_cm: 12 });

    // A message the service itself sends bob arrives; everything before it would have too.
    await new Promise<void>((resolve, reject) =>
      k.broker!.aedes.publish({ cmd: 'publish', topic: 'flood/bob/config', payload: Buffer.from('{"from":"service"}'), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
    await waitFor(() => received.length >= 1, { what: 'the service message reaches bob' });
    await waitFor(async () => (await rejected(k, 'topic_not_allowed')) === before.notAllowed + 2, { what: 'reading and $SYS refusals counted' });
    await waitFor(async () => (await rejected(k, 'unknown_topic')) === before.unknown + 2, { what: 'config refusals counted' });
    expect(received).toEqual(['flood/bob/config']);
    expect(bobClosed).toBe(false);
    expect(bob.connected).toBe(true);
    expect(await storedLevels(k, 'bob', NOW - 3_600_000, NOW + 60_000)).not.toContain(99);
    expect(await storedLevels(k, 'alice', NOW - 300_001, NOW - 299_999)).toEqual([12]);
    await alice.endAsync();
    await bob.endAsync();
  });

  it('7. the connected gauge and the console flag come back to the true count after sensors drop right after CONNACK', async () => {
    const token = createTestToken(k, 'staff-7', 'staff');
    const consoleConnected = async () => {
      const body = await (await consoleFetch(k, 'GET', '/api/console/sensors', { token })).json();
      return (body.sensors as { id: string; connected: boolean }[]).filter((s) => s.connected).map((s) => s.id);
    };
    await waitFor(async () => (await metric(k, 'kansui_connected_sensors')) === 0, { what: 'no sensor connected at the start' });

    // 60 connections that hang up the moment their CONNACK arrives (or sooner), as a flaky modem does.
    const drops = Array.from({ length: 60 }, async (_, i) => {
      const id = ['good', 'alice', 'bob'][i % 3] as string;
      const { socket, closed, connected } = rawSocket(k.mqttPort!);
      await connected;
      socket.write(connectPacket({ clientId: `${id}/flaky-${i}`, ...creds[id] }));
      if (i % 4 === 0) socket.destroy(); // gone before the CONNACK
      else socket.once('data', () => socket.destroy()); // gone right after it
      await closed;
    });
    await Promise.all(drops);
    const steady = await connectMqtt(k.mqttUrl!, { ...creds.good, clientId: 'good' });

    await waitFor(async () => (await metric(k, 'kansui_connected_sensors')) === 1, { what: 'gauge back to the one real connection' });
    await waitFor(async () => JSON.stringify(await consoleConnected()) === '["good"]', { what: 'console shows only the real connection' });
    await steady.endAsync();
    await waitFor(async () => (await metric(k, 'kansui_connected_sensors')) === 0, { what: 'gauge back to 0' });
    await waitFor(async () => (await consoleConnected()).length === 0, { what: 'console shows none connected' });
  });
});

describe('connections that never authenticate (issue 10, item 3: slow-loris before CONNECT)', () => {
  let k: TestKansui;
  let good: { username: string; password: string };

  beforeAll(async () => {
    // A long CONNECT timeout, so only the pending cap can be what closes the idle sockets.
    k = await startTestKansui({ MQTT_MAX_PENDING_CONNECTIONS: '5', MQTT_CONNECT_TIMEOUT_S: '120' });
    good = registerSensor(k.registry, { id: 'good', name: 'good', lat: 34.27, lon: 135.4 }, Date.now()).mqtt;
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('holds at most MQTT_MAX_PENDING_CONNECTIONS unauthenticated sockets, dropping the oldest; a sensor still gets in', async () => {
    const before = await refusedConnections(k, 'too_many_pending');
    // 30 sockets each holding most of a 16,380-byte CONNECT (under the packet cap), never finishing it.
    const idle: ReturnType<typeof rawSocket>[] = [];
    for (let i = 0; i < 30; i++) {
      const s = rawSocket(k.mqttPort!);
      await s.connected;
      s.socket.write(Buffer.concat([Buffer.from([0x10, 0xfc, 0x7f]), Buffer.alloc(16_000, 0x41)]));
      idle.push(s);
    }
    const closedWithin = async (s: (typeof idle)[number]) => (await deadline(s.closed, 10_000)) !== 'timeout';
    // The 25 oldest were dropped as newer ones arrived; the 5 newest are still waiting.
    expect(await Promise.all(idle.slice(0, 25).map(closedWithin))).toEqual(Array(25).fill(true));
    expect(idle.slice(25).every((s) => !s.socket.destroyed)).toBe(true);
    expect(await refusedConnections(k, 'too_many_pending')).toBe(before + 25);

    // A real sensor connecting now pushes out one more idle socket, authenticates and stores.
    const c = await connectMqtt(k.mqttUrl!, { ...good, clientId: 'good' });
    const t = Date.now() - 1000;
    await publishReading(c, 'good', { ts: t, level_cm: 5 });
    expect(await storedLevels(k, 'good', t - 1, t + 1)).toEqual([5]);
    // Once authenticated it no longer counts as pending (4 are left): five more idle
    // sockets push out four of the older idle ones, never the sensor.
    for (let i = 0; i < 5; i++) {
      const s = rawSocket(k.mqttPort!);
      await s.connected;
      idle.push(s);
    }
    await waitFor(async () => (await refusedConnections(k, 'too_many_pending')) === before + 30, { what: 'older idle sockets dropped' });
    await publishReading(c, 'good', { ts: t + 1, level_cm: 6 });
    expect(c.connected).toBe(true);
    await c.endAsync();
    for (const s of idle) s.socket.destroy();
  });
});

describe('per-sensor limits (issue 10, item 6)', () => {
  let k: TestKansui;
  let clock = Date.now();
  const creds: Record<string, { username: string; password: string }> = {};

  beforeAll(async () => {
    // A fixed clock the test moves, so the bucket's refill is exact.
    k = await startTestKansui({ MQTT_SENSOR_RATE_PER_MIN: '60', MQTT_SENSOR_BURST: '20', MQTT_MAX_CONNECTIONS_PER_SENSOR: '2' }, { now: () => clock, sweepMs: 3_600_000 });
    for (const id of ['flood', 'calm']) creds[id] = registerSensor(k.registry, { id, name: id, lat: 34.27, lon: 135.4 }, clock).mqtt;
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('one credential publishing a fast burst gets only the bucket stored, the rest acknowledged and counted; another sensor is unaffected', async () => {
    const t0 = clock - 60_000;
    const flood = await connectMqtt(k.mqttUrl!, { ...creds.flood, clientId: 'flood' });
    const calm = await connectMqtt(k.mqttUrl!, { ...creds.calm, clientId: 'calm' });
    const before = await rejected(k, 'rate_limited');

    // 200 readings at once, every one acknowledged (PUBACK) — none lost to a closed connection.
    await Promise.all(Array.from({ length: 200 }, (_, i) => publishReading(flood, 'flood', { ts: t0 + i, level_cm: i % 100 })));
    for (let i = 0; i < 5; i++) await publishReading(calm, 'calm', { ts: t0 + i, level_cm: 50 + i });

    expect((await storedLevels(k, 'flood', t0 - 1, clock)).length).toBe(20);
    expect(await rejected(k, 'rate_limited')).toBe(before + 180);
    expect(await storedLevels(k, 'calm', t0 - 1, clock)).toEqual([50, 51, 52, 53, 54]);
    expect(flood.connected).toBe(true);

    // Two seconds later at 60/min: two more tokens, no more.
    clock += 2_000;
    for (let i = 0; i < 3; i++) await publishReading(flood, 'flood', { ts: t0 + 1000 + i, level_cm: 1 });
    expect((await storedLevels(k, 'flood', t0 - 1, clock)).length).toBe(22);
    expect(await rejected(k, 'rate_limited')).toBe(before + 181);
    await flood.endAsync();
    await calm.endAsync();
  });

  it('refuses connections over the per-credential cap with CONNACK 3; a takeover of its own client id and other sensors are not affected', async () => {
    const before = await refusedConnections(k, 'too_many_connections');
    const one = await connectMqtt(k.mqttUrl!, { ...creds.flood, clientId: 'flood' });
    const two = await connectMqtt(k.mqttUrl!, { ...creds.flood, clientId: 'flood/2' });
    await expect(connectMqtt(k.mqttUrl!, { ...creds.flood, clientId: 'flood/3' })).rejects.toThrow(/server unavailable/i);
    expect(await refusedConnections(k, 'too_many_connections')).toBe(before + 1);
    const calm = await connectMqtt(k.mqttUrl!, { ...creds.calm, clientId: 'calm' });

    // The firmware's reconnect (same client id while the old socket lingers) takes over, not counted twice.
    const oneAgain = await connectMqtt(k.mqttUrl!, { ...creds.flood, clientId: 'flood' });
    await waitFor(() => !one.connected, { what: 'old connection taken over' });
    expect(two.connected && oneAgain.connected && calm.connected).toBe(true);

    // Once one hangs up, a new one fits again.
    await two.endAsync();
    const three = await waitFor(() => connectMqtt(k.mqttUrl!, { ...creds.flood, clientId: 'flood/3' }), { what: 'a slot frees up' });
    await three.endAsync();
    await oneAgain.endAsync();
    one.end(true);
    await calm.endAsync();
  });
});
