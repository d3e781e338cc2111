import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import type { UplinkOutcome, UplinkSource } from '../../services/core/uplink.ts';
import type { UplinkResult } from '../../services/integrations/receiver.ts';
import { createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { startNetworkServerBroker, type NetworkServerBroker } from '../helpers/network-server-broker.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * One contract for every network-server adapter (issue 11): TTN v3 over MQTT
 * and webhook, ChirpStack v4 over MQTT and HTTP. Messages are shaped exactly
 * as the servers document them, sent through the real transport: Debian's
 * Mosquitto as the server's broker, real HTTP posts to kansui.
 */
interface Spec {
  devEui: string;
  deviceName: string;
  receivedAt: string;
  fPort?: number;
  fCnt?: number;
  bytes: number[];
  rx: { rssi: number; snr: number }[];
  dedupId: string;
}

interface Adapter {
  source: UplinkSource;
  /** Send one uplink the way this server would; resolves once it was sent (not handled). */
  deliver(spec: Spec): Promise<void>;
}

const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');

/** The Things Stack v3 uplink message ("Data formats" → uplink messages); defaults omitted as TTN omits them. */
function ttnMessage(s: Spec, appId: string) {
  return {
    end_device_ids: { device_id: s.deviceName, application_ids: { application_id: appId }, dev_eui: s.devEui, join_eui: '0000000000000000', dev_addr: '260B1234' },
    correlation_ids: [`as:up:${s.dedupId}`, `gs:uplink:${randomUUID()}`],
    received_at: s.receivedAt,
    uplink_message: {
      session_key_id: 'AXA50...',
      ...(s.fPort && { f_port: s.fPort }),
      ...(s.fCnt && { f_cnt: s.fCnt }),
      frm_payload: b64(s.bytes),
      rx_metadata: s.rx.map((g, i) => ({ gateway_ids: { gateway_id: `gw-${i}`, eui: `B827EBFFFE00000${i}` }, rssi: g.rssi, channel_rssi: g.rssi, snr: g.snr })),
      settings: { data_rate: { lora: { bandwidth: 125000, spreading_factor: 7 } }, frequency: '923200000' },
      received_at: s.receivedAt,
      consumed_airtime: '0.056576s',
    },
  };
}

/** ChirpStack v4 `up` event, JSON encoding. */
function chirpstackMessage(s: Spec, appId: string) {
  return {
    deduplicationId: s.dedupId,
    time: s.receivedAt.replace('Z', '123456+00:00'), // ChirpStack prints nanoseconds
    deviceInfo: { tenantId: randomUUID(), tenantName: 'City', applicationId: appId, applicationName: 'flood', deviceProfileId: randomUUID(), deviceProfileName: 'EM500-UDL', deviceName: s.deviceName, devEui: s.devEui.toLowerCase(), tags: {} },
    devAddr: '00189440',
    adr: true,
    dr: 5,
    ...(s.fCnt && { fCnt: s.fCnt }),
    ...(s.fPort && { fPort: s.fPort }),
    confirmed: false,
    data: b64(s.bytes),
    rxInfo: s.rx.map((g, i) => ({ gatewayId: `b827ebfffe00000${i}`, uplinkId: 1000 + i, rssi: g.rssi, snr: g.snr, context: 'AAAA', metadata: {} })),
    txInfo: { frequency: 923200000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
  };
}

describe('network-server integrations: one contract, every adapter (issue 11)', () => {
  let k: TestKansui;
  let broker: NetworkServerBroker;
  let token: string;
  const results: { source: UplinkSource; result: UplinkResult }[] = [];
  const csApp = randomUUID();

  const post = (path: string, body: unknown, auth = token) =>
    fetch(`${k.httpUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });

  const adapters: Adapter[] = [
    { source: 'ttn-mqtt', deliver: (s) => broker.publish(`v3/${broker.ttnUser.username}/devices/${s.deviceName}/up`, ttnMessage(s, 'kansui-app')) },
    { source: 'ttn-webhook', deliver: async (s) => void expect((await post('/api/integrations/ttn', ttnMessage(s, 'kansui-app'))).status).toBeLessThan(300) },
    { source: 'chirpstack-mqtt', deliver: (s) => broker.publish(`application/${csApp}/device/${s.devEui.toLowerCase()}/event/up`, chirpstackMessage(s, csApp)) },
    { source: 'chirpstack-http', deliver: async (s) => void expect((await post('/api/integrations/chirpstack?event=up', chirpstackMessage(s, csApp))).status).toBeLessThan(300) },
  ];

  beforeAll(async () => {
    broker = await startNetworkServerBroker();
    k = await startTestKansui({
      TTN_MQTT_URL: broker.url, TTN_MQTT_USERNAME: broker.ttnUser.username, TTN_MQTT_PASSWORD: broker.ttnUser.password,
      CHIRPSTACK_MQTT_URL: broker.url, CHIRPSTACK_MQTT_USERNAME: broker.chirpstackUser.username, CHIRPSTACK_MQTT_PASSWORD: broker.chirpstackUser.password,
    });
    token = createTestToken(k, 'ns-tech', 'technician');
    k.integrations.receiver.on('uplink', (source, result) => results.push({ source, result }));
    await waitFor(() => k.integrations.mqtt.every((m) => m.subscribed()), { what: 'network-server subscriptions' });
    expect(k.integrations.mqtt.map((m) => m.source).sort()).toEqual(['chirpstack-mqtt', 'ttn-mqtt']);
  });
  afterAll(async () => {
    await k?.dispose();
    await broker?.stop();
  });

  /** Wait for the n-th outcome of this source after `from`. */
  async function outcomes(source: UplinkSource, from: number, n: number): Promise<UplinkResult[]> {
    return waitFor(() => {
      const mine = results.slice(from).filter((r) => r.source === source).map((r) => r.result);
      return mine.length >= n ? mine : undefined;
    }, { what: `${n} ${source} outcomes` });
  }

  const metric = async (source: string, outcome: UplinkOutcome) => {
    const text = await (await fetch(`${k.httpUrl}/metrics`)).text();
    const m = new RegExp(`^kansui_integration_uplinks_total\\{source="${source}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };

  let n = 0;
  const eui = (i: number, j: number) => `24E12471${String(i).padStart(2, '0')}${String(j).padStart(2, '0')}AB${String(n).padStart(2, '0')}`.slice(0, 16);

  for (const [i, adapter] of adapters.entries()) {
    describe(adapter.source, () => {
      let em500: string;
      let em310: string;
      beforeAll(() => {
        n++;
        em500 = eui(i, 1);
        em310 = eui(i, 2);
        // Mounted 1.5 m above the dry road: 30 mm distance is 147 cm of water; 1200 mm is 30 cm.
        registerSensor(k.registry, { id: `${adapter.source}-em500`, name: 'アンダーパス', lat: 35.68, lon: 139.76, mountHeightMm: 1500, devEui: em500.toLowerCase(), codec: 'milesight-em500-udl' }, Date.now());
        registerSensor(k.registry, { id: `${adapter.source}-em310`, name: '側溝', lat: 35.69, lon: 139.76, mountHeightMm: 3000, devEui: em310, codec: 'milesight-em310-udl' }, Date.now());
      });

      it('a registered EM500-UDL uplink is stored through the calibration at the server receive time, battery % kept, best gateway signal', async () => {
        const from = results.length;
        const receivedAt = new Date(Date.now() - 5_000).toISOString().replace(/\.\d+Z$/, '.250Z');
        // 01 75 5A: battery 90 %; 03 82 B0 04: distance 1200 mm
        await adapter.deliver({ devEui: em500, deviceName: 'em500-a', receivedAt, fPort: 85, fCnt: 41, bytes: [0x01, 0x75, 0x5a, 0x03, 0x82, 0xb0, 0x04], rx: [{ rssi: -110, snr: -3 }, { rssi: -97, snr: 7.5 }], dedupId: randomUUID() });
        const [r] = await outcomes(adapter.source, from, 1);
        expect(r).toMatchObject({ outcome: 'accepted', sensorId: `${adapter.source}-em500` });
        const reading = k.ingest.latest.get(`${adapter.source}-em500`)!;
        expect(reading).toMatchObject({ levelCm: 30, distanceMm: 1200, batteryPct: 90, rssiDbm: -97, snrDb: 7.5, seq: 41, observedAt: Date.parse(receivedAt) });
        const api = await (await fetch(`${k.httpUrl}/api/sensors/${adapter.source}-em500/readings?from=${Date.parse(receivedAt) - 1000}`)).json();
        expect(api.readings).toHaveLength(1);
        expect(await metric(adapter.source, 'accepted')).toBe(1);
      });

      it('a redelivered uplink (same server id) is a duplicate, stored once', async () => {
        const from = results.length;
        const spec: Spec = { devEui: em500, deviceName: 'em500-a', receivedAt: new Date(Date.now() - 4_000).toISOString(), fPort: 85, fCnt: 42, bytes: [0x03, 0x82, 0xdc, 0x05], rx: [{ rssi: -100, snr: 2 }], dedupId: randomUUID() };
        await adapter.deliver(spec);
        await adapter.deliver(spec);
        const rs = await outcomes(adapter.source, from, 2);
        // QoS 0 messages are handled concurrently: the duplicate may be decided before the first is stored.
        expect(rs.map((r) => r.outcome).sort()).toEqual(['accepted', 'duplicate']);
        const api = await (await fetch(`${k.httpUrl}/api/sensors/${adapter.source}-em500/readings?from=${Date.parse(spec.receivedAt)}&to=${Date.parse(spec.receivedAt)}`)).json();
        expect(api.readings).toHaveLength(1);
        expect(await metric(adapter.source, 'duplicate')).toBe(1);
      });

      it('an unknown DevEUI is refused and counted as unknown_device, never created', async () => {
        const from = results.length;
        await adapter.deliver({ devEui: 'A84041FFFF00AA' + String(i).padStart(2, '0'), deviceName: 'stranger', receivedAt: new Date().toISOString(), fPort: 2, fCnt: 1, bytes: [0x0d, 0x3b, 0x0a, 0xef, 0, 0, 0, 1], rx: [], dedupId: randomUUID() });
        const [r] = await outcomes(adapter.source, from, 1);
        expect(r!.outcome).toBe('unknown_device');
        expect(k.registry.list().some((s) => s.name === 'stranger' || s.id === 'stranger')).toBe(false);
        expect(await metric(adapter.source, 'unknown_device')).toBe(1);
      });

      it('a tilted EM310-UDL is refused as tilt (a sensor-health fault), never a level; fields at their default are omitted and read as 0', async () => {
        const from = results.length;
        await adapter.deliver({ devEui: em310, deviceName: 'em310-b', receivedAt: new Date().toISOString(), bytes: [0x01, 0x75, 0x5c, 0x03, 0x82, 0x44, 0x08, 0x04, 0x00, 0x01], rx: [{ rssi: -90, snr: 9 }], dedupId: randomUUID() });
        const [r] = await outcomes(adapter.source, from, 1);
        expect(r).toMatchObject({ outcome: 'refused', reason: 'tilt', sensorId: `${adapter.source}-em310` });
        expect(k.ingest.latest.get(`${adapter.source}-em310`)).toBeUndefined();
        expect(k.console.health.get(`${adapter.source}-em310`).lastRejected).toMatchObject({ reason: 'tilt' });
        expect(k.integrations.receiver.batteries.get(`${adapter.source}-em310`)).toMatchObject({ pct: 92 });
        // A sensor-health alert for staff; the next upright frame is a reading again and ends it.
        expect(k.alerting.activeFor(`${adapter.source}-em310`).sensor_fault).toMatchObject({ cause: 'tilt' });
        await adapter.deliver({ devEui: em310, deviceName: 'em310-b', receivedAt: new Date().toISOString(), fCnt: 2, bytes: [0x03, 0x82, 0x44, 0x08, 0x04, 0x00, 0x00], rx: [], dedupId: randomUUID() });
        const [, ok] = await outcomes(adapter.source, from, 2);
        expect(ok).toMatchObject({ outcome: 'accepted' });
        expect(k.ingest.latest.get(`${adapter.source}-em310`)).toMatchObject({ levelCm: 88.4 });
        expect(k.alerting.activeFor(`${adapter.source}-em310`).sensor_fault).toBeUndefined();
      });
    });
  }

  it('webhooks: ChirpStack status keeps batteryLevel; other events are accepted and ignored; malformed bodies are 400; a staff token is 403', async () => {
    const sensor = registerSensor(k.registry, { id: 'cs-status', name: '状態', lat: 35.7, lon: 139.7, mountHeightMm: 1000, devEui: '70B3D57ED0000001', codec: 'dragino-ldds75' }, Date.now()).sensor;
    const status = await post('/api/integrations/chirpstack?event=status', { deviceInfo: { devEui: '70b3d57ed0000001', deviceName: 'ldds75' }, margin: 7, batteryLevel: 81.5, time: new Date().toISOString() });
    expect(status.status).toBe(200);
    expect(k.integrations.receiver.batteries.get(sensor.id)).toMatchObject({ pct: 81.5 });
    for (const event of ['join', 'ack', 'txack', 'log', 'location', 'integration']) {
      const res = await post(`/api/integrations/chirpstack?event=${event}`, { deviceInfo: { devEui: '70b3d57ed0000001' } });
      expect(res.status, event).toBe(200);
      expect(await res.json()).toMatchObject({ outcome: 'ignored' });
    }
    expect((await post('/api/integrations/chirpstack?event=up', { deviceInfo: { devEui: 'not-hex' } })).status).toBe(400);
    expect((await post('/api/integrations/ttn', { uplink_message: {}, end_device_ids: {} })).status).toBe(400);
    expect((await post('/api/integrations/ttn', { join_accept: {}, end_device_ids: { dev_eui: '70B3D57ED0000001' } })).status).toBe(200);
    const staff = createTestToken(k, 'ns-staff', 'staff');
    // The console's view of the integrations: last message and counts per source, batteries reported.
    const view = await (await fetch(`${k.httpUrl}/api/integrations`, { headers: { Authorization: `Bearer ${staff}` } })).json();
    expect(view.integrations.map((i: { source: string }) => i.source)).toEqual(['ttn-mqtt', 'ttn-webhook', 'chirpstack-mqtt', 'chirpstack-http']);
    for (const i of view.integrations) {
      expect(i.last_uplink_at).toMatch(/^\d{4}-\d\d-\d\dT.*\+09:00$/);
      expect(i.counts).toMatchObject({ accepted: 3, duplicate: 1, unknown_device: 1, refused: 1 });
    }
    expect(view.batteries['cs-status']).toMatchObject({ battery_pct: 81.5 });
    // Uplinks are data coming in, not people's changes: none of the webhook posts above is in the audit log.
    const admin = createTestToken(k, 'ns-admin', 'admin');
    const audit = await (await fetch(`${k.httpUrl}/api/audit?limit=500`, { headers: { Authorization: `Bearer ${admin}` } })).json();
    expect(audit.entries.filter((e: { targetId?: string }) => e.targetId?.includes('/api/integrations'))).toEqual([]);
    const consoleRow = (await (await fetch(`${k.httpUrl}/api/console/sensors`, { headers: { Authorization: `Bearer ${staff}` } })).json()).sensors.find((x: { id: string }) => x.id === 'ttn-mqtt-em500');
    // Its newest reading carried no battery record (the redelivery test's frame): the last reported one is kept beside it.
    expect(consoleRow).toMatchObject({ batteryPct: null, snrDb: 2, devEui: expect.stringMatching(/^24E12471/), codec: 'milesight-em500-udl' });
    expect(view.batteries['ttn-mqtt-em500']).toMatchObject({ battery_pct: 90 });
    expect((await post('/api/integrations/ttn', {}, staff)).status).toBe(403);
    expect((await fetch(`${k.httpUrl}/api/integrations/ttn`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } })).status).toBe(401);
  });
});
