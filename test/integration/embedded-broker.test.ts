import mqttPacket from 'mqtt-packet';
import { connect as connectTcp, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { runKansuiCli } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';

async function metric(k: TestKansui, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${k.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : NaN;
}
const rejected = (k: TestKansui, reason: string) => metric(k, 'kansui_readings_rejected_total', `{reason="${reason}"}`);

/** A raw MQTT 3.1.1 connection, for packets mqtt.js refuses to send (wildcard topics, oversize). */
async function rawConnect(port: number, username: string, password: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connectTcp(port, '127.0.0.1');
  socket.on('error', () => {}); // the broker resetting the connection is what some tests expect
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const connack = new Promise<number>((resolve) => parser.on('packet', (p) => p.cmd === 'connack' && resolve((p as { returnCode: number }).returnCode)));
  socket.on('data', (d) => parser.parse(d));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise((r) => socket.once('connect', r));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `${username}/raw`, keepalive: 30, username, password: Buffer.from(password) }));
  expect(await connack).toBe(0);
  return { socket, closed };
}

describe('embedded broker: identity, topics and bad input', () => {
  let k: TestKansui;
  let s1: { username: string; password: string };
  let s2: { username: string; password: string };
  const NOW = Date.now();

  beforeAll(async () => {
    k = await startTestKansui();
    s1 = registerSensor(k.registry, { id: 's1', name: 'センサー1', lat: 34.27, lon: 135.4 }, NOW).mqtt;
    s2 = registerSensor(k.registry, { id: 's2', name: 'センサー2', lat: 34.28, lon: 135.41, mountHeightMm: 3000, minRangeMm: 200 }, NOW).mqtt;
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('refuses anonymous clients and wrong passwords at CONNECT', async () => {
    await expect(connectMqtt(k.mqttUrl!)).rejects.toThrow(/bad user ?name or password|not authori[sz]ed/i);
    await expect(connectMqtt(k.mqttUrl!, { username: 's1', password: 'wrong' })).rejects.toThrow(/bad user ?name or password/i);
    await expect(connectMqtt(k.mqttUrl!, { username: 'nobody', password: s1.password })).rejects.toThrow(/bad user ?name or password/i);
  });

  it('lets a sensor subscribe only under its own id', async () => {
    const c = await connectMqtt(k.mqttUrl!, { username: s1.username, password: s1.password });
    // mqtt.js rejects when any filter is refused; the SUBACK is on the error.
    const err = await c.subscribeAsync(['#', 'flood/+/reading', 'flood/s2/#', '$SYS/#', 'flood/s1/#'], { qos: 1 }).then(
      () => undefined,
      (e: { packet?: { granted: number[] } }) => e,
    );
    expect(err?.packet?.granted).toEqual([128, 128, 128, 128, 1]);
    expect(c.connected).toBe(true);
    expect(await metric(k, 'kansui_connected_sensors')).toBe(1);
    await c.endAsync();
  });

  it('stores every good reading, and counts each kind of bad one by reason without losing the good ones around it', async () => {
    const c1 = await connectMqtt(k.mqttUrl!, { username: s1.username, password: s1.password });
    const c2 = await connectMqtt(k.mqttUrl!, { username: s2.username, password: s2.password });
    const before = Object.fromEntries(
      await Promise.all(['malformed_json', 'invalid_schema', 'non_finite', 'level_out_of_range', 'payload_too_large', 'ts_in_future', 'ts_too_old', 'topic_not_allowed', 'unknown_topic', 'below_min_range'].map(async (r) => [r, await rejected(k, r)])),
    );
    const t = (s: number) => new Date(NOW - s * 1000).toISOString();
    const good: [string, number][] = [];
    const send = async (n: number, payload: unknown) => {
      good.push([t(n), n]);
      await publishReading(c1, 's1', { ts: t(n), level_cm: n });
    };
    await send(101, null);
    await publishReading(c1, 's1', '{"level_cm": 1');
    await send(102, null);
    await publishReading(c1, 's1', { level_cm: 'deep' });
    await publishReading(c1, 's1', '{"level_cm": 1e400}');
    await publishReading(c1, 's1', '{"level_cm": NaN}');
    await send(103, null);
    await publishReading(c1, 's1', { level_cm: -3 });
    await publishReading(c1, 's1', { level_cm: 99999 });
    await publishReading(c1, 's1', { level_cm: 1, pad: 'x'.repeat(5000) });
    await publishReading(c1, 's1', { ts: new Date(NOW + 3_600_000).toISOString(), level_cm: 1 });
    await publishReading(c1, 's1', { ts: NOW - 8 * 86_400_000, level_cm: 1 });
    await send(104, null);
    await c1.publishAsync('flood/s2/reading', JSON.stringify({ level_cm: 50 }), { qos: 1 }); // another sensor's topic
    await c1.publishAsync('$SYS/broker/x', 'x', { qos: 1 });
    await c1.publishAsync('flood/s1/status', 'x', { qos: 1 });
    await c2.publishAsync('flood/s2/reading', JSON.stringify({ distance_mm: 50 }), { qos: 1 }); // inside blind zone
    await send(105, null);
    // QoS 0 readings are accepted too.
    await publishReading(c1, 's1', { ts: t(106), level_cm: 106 }, 0);
    good.push([t(106), 106]);

    const readings = await waitFor(async () => {
      const body = await (await fetch(`${k.httpUrl}/api/sensors/s1/readings?from=${NOW - 3_600_000}&to=${NOW}`)).json();
      return body.readings.length === good.length && body.readings;
    }, { what: 'all good readings stored' });
    expect(readings.map((r: { level_cm: number }) => r.level_cm)).toEqual(good.map(([, n]) => n).sort((a, b) => b - a));
    // Nothing from s1 landed under s2.
    expect((await (await fetch(`${k.httpUrl}/api/sensors/s2/readings`)).json()).readings).toEqual([]);

    const delta = async (r: string) => (await rejected(k, r)) - before[r];
    expect(await delta('malformed_json')).toBe(2);
    expect(await delta('invalid_schema')).toBe(1);
    expect(await delta('non_finite')).toBe(1);
    expect(await delta('level_out_of_range')).toBe(2);
    expect(await delta('payload_too_large')).toBe(1);
    expect(await delta('ts_in_future')).toBe(1);
    expect(await delta('ts_too_old')).toBe(1);
    expect(await delta('topic_not_allowed')).toBe(2);
    expect(await delta('unknown_topic')).toBe(1);
    expect(await delta('below_min_range')).toBe(1);
    // The connections survived all of it.
    expect(c1.connected && c2.connected).toBe(true);
    await c1.endAsync();
    await c2.endAsync();
  });

  it('stores a duplicate (same sensor, same ts) once and never moves "latest" backwards', async () => {
    const c = await connectMqtt(k.mqttUrl!, { username: s2.username, password: s2.password });
    const ts = NOW - 10_000;
    await publishReading(c, 's2', { ts, distance_mm: 2700 });
    await publishReading(c, 's2', { ts, distance_mm: 2700 });
    await publishReading(c, 's2', { ts: NOW - 600_000, distance_mm: 2900 }); // older, arrives late
    const f = await (await fetch(`${k.httpUrl}/api/sensors/s2`)).json();
    expect(f.properties).toMatchObject({ level_cm: 30, status: 'danger' });
    expect(Date.parse(f.properties.observed_at)).toBe(ts);
    const h = await (await fetch(`${k.httpUrl}/api/sensors/s2/readings?from=${NOW - 3_600_000}&to=${NOW}`)).json();
    expect(h.readings.map((r: { level_cm: number }) => r.level_cm)).toEqual([10, 30]);
    expect(await metric(k, 'kansui_readings_duplicate_total')).toBeGreaterThanOrEqual(1);
    await c.endAsync();
  });

  it('closes a connection that publishes to a wildcard topic [MQTT-3.3.2-2] and counts it', async () => {
    const before = await rejected(k, 'topic_not_allowed');
    const { socket, closed } = await rawConnect(k.mqttPort!, s1.username, s1.password);
    socket.write(mqttPacket.generate({ cmd: 'publish', topic: 'flood/+/reading', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }));
    await closed;
    await waitFor(async () => (await rejected(k, 'topic_not_allowed')) === before + 1, { what: 'wildcard counted' });
  });

  it('drops a connection whose packet is larger than the cap before buffering it', async () => {
    const { socket, closed } = await rawConnect(k.mqttPort!, s1.username, s1.password);
    socket.write(mqttPacket.generate({ cmd: 'publish', topic: 'flood/s1/reading', payload: Buffer.alloc(64 * 1024, 32), qos: 0, retain: false, dup: false }));
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('a password rotated with the CLI stops working at the next CONNECT, without a restart', async () => {
    const r = await runKansuiCli(['sensor', 'rotate', '--id', 's1'], k.dataDir);
    expect(r.code).toBe(0);
    const fresh = JSON.parse(r.stdout).mqtt;
    await expect(connectMqtt(k.mqttUrl!, { username: 's1', password: s1.password })).rejects.toThrow(/bad user ?name or password/i);
    const c = await connectMqtt(k.mqttUrl!, { username: 's1', password: fresh.password });
    await c.endAsync();
    s1 = fresh;
  });
});
