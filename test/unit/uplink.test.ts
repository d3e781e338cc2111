import { describe, expect, it } from 'vitest';
import { parseReading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { decideUplink, pickBestGateway, uplinkKey, type Uplink } from '../../services/core/uplink.ts';
import { parseChirpstackUp, parseTtnUplink } from '../../services/integrations/messages.ts';

const NOW = Date.parse('2026-07-01T00:00:00Z');
const em500 = createSensor({ id: 'u1', name: 'x', lat: 35, lon: 139, mountHeightMm: 1500, minRangeMm: 250, devEui: '24e124713b123456', codec: 'milesight-em500-udl' }, NOW);
const uplink = (bytes: number[], extra: Partial<Uplink> = {}): Uplink => ({ source: 'ttn-webhook', devEui: '24E124713B123456', receivedAt: NOW, fCnt: 7, fPort: 85, bytes: Uint8Array.from(bytes), ...extra });
const reading = (u: Uplink, sensor = em500) => {
  const d = decideUplink(u, sensor);
  if (d.kind !== 'reading') throw new Error(JSON.stringify(d));
  return parseReading(Buffer.from(JSON.stringify(d.payload)), sensor, NOW);
};

describe('uplinks → readings (issue 11)', () => {
  it('registration: DevEUI is 16 hex digits, case-insensitive, stored upper case; a codec needs a DevEUI; json needs its field', () => {
    expect(em500.devEui).toBe('24E124713B123456');
    expect(() => createSensor({ id: 'x', name: 'x', lat: 1, lon: 1, devEui: '24E124713B12345' }, NOW)).toThrow(/16 hex/);
    expect(() => createSensor({ id: 'x', name: 'x', lat: 1, lon: 1, devEui: '24E124713B12345G' }, NOW)).toThrow(/16 hex/);
    expect(() => createSensor({ id: 'x', name: 'x', lat: 1, lon: 1, codec: 'floodnet' }, NOW)).toThrow(/dev_eui/);
    expect(() => createSensor({ id: 'x', name: 'x', lat: 1, lon: 1, devEui: '24E124713B123456', codec: 'nope' }, NOW)).toThrow();
    expect(() => createSensor({ id: 'x', name: 'x', lat: 1, lon: 1, devEui: '24E124713B123456', codec: 'json' }, NOW)).toThrow(/jsonField/);
    expect(createSensor({ id: 'x', name: 'x', lat: 1, lon: 1, devEui: '24E124713B123456', codec: 'json', jsonField: { quantity: 'level_cm', path: 'level' } }, NOW).codec).toBe('json');
  });

  it('the vendor vector through the calibration: 30 mm from a sensor mounted at 1500 mm is 147 cm, battery 100 %', () => {
    const r = reading(uplink([0x01, 0x75, 0x64, 0x03, 0x82, 0x1e, 0x00]), createSensor({ ...em500, minRangeMm: undefined }, NOW));
    expect(r).toMatchObject({ ok: true, reading: { levelCm: 147, distanceMm: 30, batteryPct: 100, observedAt: NOW, seq: 7 } });
  });

  it('a distance inside the blind zone is refused as below_min_range, not flooding', () => {
    expect(reading(uplink([0x03, 0x82, 0x1e, 0x00]))).toMatchObject({ ok: false, reason: 'below_min_range' });
  });

  it('tilt and no target are refused with their own reason and the battery; never a level', () => {
    const em310 = createSensor({ ...em500, codec: 'milesight-em310-udl' }, NOW);
    expect(decideUplink(uplink([0x01, 0x75, 0x5c, 0x03, 0x82, 0x44, 0x08, 0x04, 0x00, 0x01]), em310)).toMatchObject({ kind: 'refused', reason: 'tilt', batteryPct: 92 });
    expect(decideUplink(uplink([0x03, 0x82, 0xfd, 0xff]), em500)).toMatchObject({ kind: 'refused', reason: 'no_target' });
  });

  it('a sensor without a codec: the server-decoded object alone cannot say which field is the water', () => {
    const plain = createSensor({ id: 'p', name: 'x', lat: 1, lon: 1, devEui: '24E124713B123457' }, NOW);
    expect(decideUplink(uplink([1, 2, 3]), plain)).toMatchObject({ kind: 'refused', reason: 'undecodable' });
  });

  it('best gateway by SNR, RSSI breaking ties; none when no gateway reported signal', () => {
    expect(pickBestGateway([{ rssi: -60, snr: -5 }, { rssi: -100, snr: 8 }, { rssi: -90, snr: 8 }])).toEqual({ rssiDbm: -90, snrDb: 8 });
    expect(pickBestGateway([])).toEqual({});
    expect(pickBestGateway(undefined)).toEqual({});
  });

  it('a redelivery is recognised by the server id, else by frame counter and receive time', () => {
    expect(uplinkKey({ devEui: 'A', fCnt: 1, dedupId: 'x', receivedAt: 1 })).toBe(uplinkKey({ devEui: 'A', fCnt: 1, dedupId: 'x', receivedAt: 2 }));
    expect(uplinkKey({ devEui: 'A', fCnt: 1, receivedAt: 1 })).not.toBe(uplinkKey({ devEui: 'A', fCnt: 1, receivedAt: 2 }));
  });

  it('TTN: absent f_port / f_cnt are 0, received_at is the time, decoded_payload kept; ChirpStack: nanosecond time, lower-case DevEUI', () => {
    const ttn = parseTtnUplink({ end_device_ids: { dev_eui: '24E124713B123456' }, received_at: '2026-07-01T00:00:00.5Z', uplink_message: { frm_payload: 'AXVk', decoded_payload: { battery: 100 } } }, 'ttn-webhook', NOW);
    expect(ttn).toMatchObject({ ok: true, uplink: { fPort: 0, fCnt: 0, receivedAt: NOW + 500, object: { battery: 100 } } });
    const cs = parseChirpstackUp({ deviceInfo: { devEui: '24e124713b123456' }, time: '2026-07-01T00:00:00.123456789+00:00', fCnt: 3, data: 'AXVk', rxInfo: [{ rssi: -80, snr: 4 }] }, 'chirpstack-http', NOW);
    expect(cs).toMatchObject({ ok: true, uplink: { devEui: '24E124713B123456', receivedAt: NOW + 123, fCnt: 3, rssiDbm: -80, snrDb: 4 } });
    expect(parseTtnUplink({ end_device_ids: {}, uplink_message: {} }, 'ttn-webhook', NOW)).toMatchObject({ ok: false });
  });
});

describe('stage sensors (issue 11)', () => {
  const stage = createSensor({ id: 's1', name: '冠水', lat: 35, lon: 139, kind: 'stage', stages: [10, 20, 30] }, NOW);
  const parse = (p: unknown, sensor = stage) => parseReading(Buffer.from(JSON.stringify(p)), sensor, NOW);

  it('registration: kind stage needs rising stages and only it has them', () => {
    expect(stage.stages).toEqual([10, 20, 30]);
    expect(() => createSensor({ id: 's', name: 'x', lat: 1, lon: 1, kind: 'stage' }, NOW)).toThrow(/stages/);
    expect(() => createSensor({ id: 's', name: 'x', lat: 1, lon: 1, kind: 'stage', stages: [20, 10] }, NOW)).toThrow(/rise/);
    expect(() => createSensor({ id: 's', name: 'x', lat: 1, lon: 1, stages: [10] }, NOW)).toThrow(/stages/);
  });

  it('wet_cm [10, 20] is a level of at least 20 cm; [] is below the lowest stage (0)', () => {
    expect(parse({ wet_cm: [20, 10] })).toMatchObject({ ok: true, reading: { levelCm: 20, wetCm: [10, 20] } });
    expect(parse({ wet_cm: [] })).toMatchObject({ ok: true, reading: { levelCm: 0, wetCm: [] } });
  });

  it('a stage sensor behind a network server: the json codec reads its wet heights from the decoded object', () => {
    const lw = createSensor({ id: 's2', name: 'x', lat: 1, lon: 1, kind: 'stage', stages: [10, 20, 30], devEui: '0011223344556677', codec: 'json', jsonField: { quantity: 'wet_cm', path: 'wet' } }, NOW);
    const d = decideUplink({ source: 'chirpstack-http', devEui: '0011223344556677', receivedAt: NOW, fCnt: 1, bytes: new Uint8Array(), object: { wet: [10, '20'] } }, lw);
    expect(d).toMatchObject({ kind: 'reading', payload: { wet_cm: [10, 20] } });
    if (d.kind !== 'reading') return;
    expect(parseReading(Buffer.from(JSON.stringify(d.payload)), lw, NOW)).toMatchObject({ ok: true, reading: { levelCm: 20 } });
    expect(decideUplink({ source: 'chirpstack-http', devEui: '0011223344556677', receivedAt: NOW, fCnt: 2, bytes: new Uint8Array(), object: { wet: 'yes' } }, lw)).toMatchObject({ kind: 'refused', reason: 'undecodable' });
  });

  it('a height that is not one of its stages, a level from a stage sensor, or wet_cm from a level sensor is refused', () => {
    expect(parse({ wet_cm: [15] })).toMatchObject({ ok: false, reason: 'invalid_schema' });
    expect(parse({ level_cm: 12 })).toMatchObject({ ok: false, reason: 'invalid_schema' });
    expect(parse({ wet_cm: [10] }, createSensor({ id: 'l', name: 'x', lat: 1, lon: 1 }, NOW))).toMatchObject({ ok: false, reason: 'invalid_schema' });
  });
});

describe('stage sensors: thresholds map to the stages (issue 11)', () => {
  it('default thresholds are the stages; explicit ones are kept', () => {
    expect(createSensor({ id: 'a', name: 'x', lat: 1, lon: 1, kind: 'stage', stages: [10, 20, 30] }, NOW).thresholds).toEqual({ caution: 10, warning: 20, danger: 30 });
    expect(createSensor({ id: 'b', name: 'x', lat: 1, lon: 1, kind: 'stage', stages: [5, 15] }, NOW).thresholds).toEqual({ caution: 5, warning: 15, danger: 16 });
    expect(createSensor({ id: 'c', name: 'x', lat: 1, lon: 1, kind: 'stage', stages: [5, 15], thresholds: { caution: 5, warning: 10, danger: 15 } }, NOW).thresholds).toEqual({ caution: 5, warning: 10, danger: 15 });
  });

  it('offline and hysteresis as for a level sensor: wet 20 → 警戒, back to 10 eases, dry resolves', async () => {
    const { evaluateReading, createAlertState } = await import('../../services/core/alerts/engine.ts');
    const { DEFAULT_ALERT_POLICY: DEFAULT_POLICY } = await import('../../services/core/alerts/policy.ts');
    const sensor = createSensor({ id: 'st', name: 'x', lat: 1, lon: 1, kind: 'stage', stages: [10, 20, 30] }, NOW);
    let state = createAlertState('normal');
    const levels: string[] = [];
    for (const [i, wet] of [[10, 20], [10, 20], [10], [10], [], []].entries()) {
      const r = parseReading(Buffer.from(JSON.stringify({ ts: NOW + i * 600_000, wet_cm: wet })), sensor, NOW + i * 600_000);
      if (!r.ok) throw new Error(r.detail);
      const e = evaluateReading(state, r.reading, sensor.thresholds, DEFAULT_POLICY);
      state = e.state;
      levels.push(e.effective);
    }
    // Easing waits for a second reading at the lower level, exactly as for level sensors (DEFAULT_ALERT_POLICY).
    expect(levels).toEqual(['warning', 'warning', 'warning', 'caution', 'caution', 'normal']);
  });
});
