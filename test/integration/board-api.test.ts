import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;

/** Issue 13: GET /api/board — who is on it, in which order, with what. */
describe('GET /api/board', () => {
  let k: TestKansui;
  let staff: string;
  const t0 = Math.floor((Date.now() - 30 * MIN) / 1000) * 1000;
  const submit = (id: string, i: number, body: Record<string, unknown>) => k.ingest.submit(id, Buffer.from(JSON.stringify({ ts: t0 + i * MIN, ...body })));
  const board = async () => (await (await fetch(`${k.httpUrl}/api/board`, { headers: { Authorization: `Bearer ${staff}` } })).json()) as { items: { sensor_id: string; name: string; address: string | null; site: string; status: string; status_name: { ja: string }; level_cm: number; peak: { level_cm: number; at: string } | null; battery_v: number | null; alerts: { kind: string; state: string; acknowledged_by: string | null; ack_note: string | null }[]; closure: { reason: string; by: string } | null }[] };

  beforeAll(async () => {
    k = await startTestKansui({ ALERT_HOLD_S: '0', ALERT_REMIND_S: '0' }, { sweepMs: 60_000 });
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    registerSensor(k.registry, { id: 'b-danger', name: '打田駅前アンダーパス', address: '紀の川市打田', lat: 34.27, lon: 135.39, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'b-warning', name: '粉河駅東', lat: 34.28, lon: 135.41, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'b-battery', name: '名手橋', lat: 34.29, lon: 135.42, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'b-dry', name: '乾いた交差点', lat: 34.3, lon: 135.43, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'b-river', name: '紀の川 船戸', lat: 34.26, lon: 135.36, intervalS: 3600 }, Date.now());
    await fetch(`${k.httpUrl}/api/sensors/b-river/alert-settings`, { method: 'PUT', headers: { Authorization: `Bearer ${k.users.issueToken(k.users.create('tech', 'technician', null).id).token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ preset: 'river_channel', thresholds: { caution: 100, warning: 150, danger: 200 } }) });
    for (const [i, level_cm] of [0, 12, 25, 38, 34].entries()) await submit('b-danger', i, { level_cm });
    for (const [i, level_cm] of [0, 22].entries()) await submit('b-warning', i, { level_cm });
    await submit('b-battery', 0, { level_cm: 0, battery_v: 3.1 });
    await submit('b-dry', 0, { level_cm: 0 });
    await submit('b-river', 0, { level_cm: 120 });
    await k.alerting.idle();
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('lists what needs attention, worst first, with names, peaks, health and acknowledgements', async () => {
    expect((await fetch(`${k.httpUrl}/api/board`)).status).toBe(401);
    const { items } = await board();
    expect(items.map((x) => x.sensor_id)).toEqual(['b-danger', 'b-warning', 'b-river', 'b-battery']); // river and battery both at 注意: deeper water first
    expect(items[0]).toMatchObject({ name: '打田駅前アンダーパス', address: '紀の川市打田', site: 'road', status: 'danger', level_cm: 34, peak: { level_cm: 38 } });
    expect(Date.parse(items[0]!.peak!.at)).toBe(t0 + 3 * MIN);
    expect(items[3]).toMatchObject({ battery_v: 3.1, alerts: [{ kind: 'low_battery', state: 'raised' }] });
    expect(items[2]).toMatchObject({ site: 'river', status: 'caution', status_name: { ja: '氾濫注意水位' } });

    const flood = k.alerting.store.active().find((a) => a.sensorId === 'b-danger' && a.kind === 'flood')!;
    await fetch(`${k.httpUrl}/api/alerts/${flood.id}/ack`, { method: 'POST', headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ note: '現地確認に向かう' }) });
    await fetch(`${k.httpUrl}/api/closures`, { method: 'POST', headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ sensor: 'b-dry', reason: '倒木' }) });
    await submit('b-danger', 5, { level_cm: 41 }); // a new peak, read incrementally
    await waitFor(() => k.ingest.latest.get('b-danger')?.levelCm === 41, { what: 'the reading' });
    const after = (await board()).items;
    expect(after.find((x) => x.sensor_id === 'b-danger')).toMatchObject({ peak: { level_cm: 41 }, alerts: [{ state: 'acknowledged', acknowledged_by: 'sato', ack_note: '現地確認に向かう' }] });
    expect(after.find((x) => x.sensor_id === 'b-dry')).toMatchObject({ status: 'normal', closure: { reason: '倒木', by: 'sato' } });
    expect(after.at(-1)?.sensor_id).toBe('b-dry'); // on the board for its closure, last
  });
});
