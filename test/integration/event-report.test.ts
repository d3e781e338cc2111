import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
/** A storm at one underpass, a reading a minute: up through 注意/警戒/危険 and down again (cm). */
const LEVELS = [0, 4, 9, 12, 15, 19, 22, 26, 29, 31, 34, 36, 35, 32, 30, 27, 24, 21, 18, 14, 11, 9, 6, 3, 1, 0];

/**
 * Issue 13: the event report's numbers match the stored readings — peak and
 * when, minutes at or above each level, alerts raised and acknowledged and
 * how long acknowledging took, closures — in JSON and CSV.
 */
describe('event report', () => {
  let k: TestKansui;
  let staff: string;
  let t0: number;
  let to: number;

  beforeAll(async () => {
    k = await startTestKansui({ ALERT_HOLD_S: '0' }, { sweepMs: 60_000 });
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    registerSensor(k.registry, { id: 'rep-01', name: '打田駅前アンダーパス', lat: 34.27, lon: 135.39, intervalS: 60 }, Date.now());
    registerSensor(k.registry, { id: 'rep-dry', name: '乾いた交差点', lat: 34.28, lon: 135.4, intervalS: 60 }, Date.now());
    t0 = Math.floor((Date.now() - 40 * MIN) / 1000) * 1000; // whole seconds: report times have no milliseconds
    for (const [i, level_cm] of LEVELS.entries()) await k.ingest.submit('rep-01', Buffer.from(JSON.stringify({ ts: t0 + i * MIN, level_cm })));
    await k.ingest.submit('rep-dry', Buffer.from(JSON.stringify({ ts: t0, level_cm: 0 })));
    const alert = await waitFor(() => k.alerting.store.list({ sensorId: 'rep-01', limit: 10 }).find((a) => a.kind === 'flood'), { what: 'the flood alert' });
    const ack = await fetch(`${k.httpUrl}/api/alerts/${alert.id}/ack`, { method: 'POST', headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ note: '現地確認' }) });
    expect([200, 409]).toContain(ack.status); // 409 if the storm already resolved it
    const close = await fetch(`${k.httpUrl}/api/closures`, { method: 'POST', headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json', Origin: k.httpUrl }, body: JSON.stringify({ sensor: 'rep-01', reason: '冠水のため' }) });
    expect(close.status).toBe(201);
    to = Date.now() + MIN;
  });
  afterAll(async () => {
    await k?.dispose();
  });

  /** What the readings say, computed here from LEVELS: each reading holds until the next, the last for at most 3 intervals. */
  function expected() {
    const holdMs = 3 * MIN;
    const minutes = { caution: 0, warning: 0, danger: 0 };
    LEVELS.forEach((level, i) => {
      const t = t0 + i * MIN;
      const next = i + 1 < LEVELS.length ? t0 + (i + 1) * MIN : Infinity;
      const ms = Math.min(next, t + holdMs, to) - t;
      if (level >= 10) minutes.caution += ms;
      if (level >= 20) minutes.warning += ms;
      if (level >= 30) minutes.danger += ms;
    });
    const peak = Math.max(...LEVELS);
    return { peak, peakAt: t0 + LEVELS.indexOf(peak) * MIN, minutes: { caution: minutes.caution / MIN, warning: minutes.warning / MIN, danger: minutes.danger / MIN } };
  }

  const q = (extra = '') => `${k.httpUrl}/api/reports/event?from=${t0}&to=${to}${extra}`;

  it('JSON: peak, time above each level, alerts and time to acknowledge, closures', async () => {
    const res = await fetch(q(), { headers: { Authorization: `Bearer ${staff}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { totals: Record<string, number | null>; sensors: { sensor_id: string; readings: number; peak_cm: number; peak_at: string; minutes_above: Record<string, number>; alerts_raised: number; alerts_acknowledged: number; minutes_to_ack: number[]; closures: unknown[] }[] };
    const s = body.sensors.find((x) => x.sensor_id === 'rep-01')!;
    const e = expected();
    expect(s.readings).toBe(LEVELS.length);
    expect(s.peak_cm).toBe(e.peak);
    expect(Date.parse(s.peak_at)).toBe(e.peakAt);
    expect(s.minutes_above).toEqual(e.minutes);
    expect(e.minutes).toEqual({ caution: 18, warning: 12, danger: 6 }); // counted by hand from LEVELS
    const alerts = k.alerting.store.list({ sensorId: 'rep-01', limit: 100 }).filter((a) => a.kind === 'flood');
    expect(s.alerts_raised).toBe(alerts.length);
    const acked = alerts.filter((a) => a.acknowledgedAt !== undefined);
    expect(s.alerts_acknowledged).toBe(acked.length);
    expect(s.minutes_to_ack).toEqual(acked.map((a) => Math.round((a.acknowledgedAt! - a.raisedAt) / 6000) / 10));
    expect(s.closures).toHaveLength(1);
    expect(body.totals).toMatchObject({ alerts_raised: alerts.length, closures: 1 });
    const dry = body.sensors.find((x) => x.sensor_id === 'rep-dry')!;
    expect(dry).toMatchObject({ peak_cm: 0, alerts_raised: 0, minutes_above: { caution: 0, warning: 0, danger: 0 } });
  });

  it('CSV with the same numbers; refuses bad periods and anonymous callers', async () => {
    const res = await fetch(q('&format=csv'), { headers: { Authorization: `Bearer ${staff}` } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // BOM: Excel in Japan opens it as UTF-8
    const lines = bytes.subarray(3).toString('utf8').trimEnd().split('\r\n');
    expect(lines[0]).toContain('ピーク(cm)/peak_cm');
    const row = lines.find((l) => l.startsWith('rep-01,'))!.split(',');
    const e = expected();
    expect(row.slice(0, 4)).toEqual(['rep-01', '打田駅前アンダーパス', String(LEVELS.length), String(e.peak)]);
    expect(row.slice(5, 8).map(Number)).toEqual([e.minutes.caution, e.minutes.warning, e.minutes.danger]);
    expect((await fetch(q())).status).toBe(401);
    expect((await fetch(`${k.httpUrl}/api/reports/event?from=${to}&to=${t0}`, { headers: { Authorization: `Bearer ${staff}` } })).status).toBe(400);
  });
});
