import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

// Issue 12: the server computes the trend (services/core/trend.ts) and /api/sensors
// carries it, so the map, the list and pushes agree: trend {rate_cm_per_h, window_s},
// next_level and eta_s (only while rising with a good fit), null when there is not
// enough to say or the sensor is 欠測.
describe('/api/sensors trend, next level and time to it', () => {
  let k: TestKansui;
  let tech: string;
  let clock = Date.now();
  const MIN = 60_000;

  beforeAll(async () => {
    k = await startTestKansui({}, { now: () => clock, sweepMs: 3_600_000 });
    tech = createTestToken(k, 'field-tech', 'technician');
  });
  afterAll(async () => {
    await k?.dispose();
  });

  type Props = { status: string; level_cm: number | null; trend: { rate_cm_per_h: number; window_s: number; direction: string } | null; next_level: string | null; eta_s: number | null; site?: string };
  const props = async (id: string) => ((await (await fetch(`${k.httpUrl}/api/sensors`)).json()) as { features: { id: string; properties: Props }[] }).features.find((f) => f.id === id)?.properties;
  const one = async (id: string) => ((await (await fetch(`${k.httpUrl}/api/sensors/${id}`)).json()) as { properties: Props }).properties;
  const submit = async (id: string, ts: number, level_cm: number) => expect((await k.ingest.submit(id, Buffer.from(JSON.stringify({ ts, level_cm })))).ok).toBe(true);

  it('rising: rate, next level and a rounded time; the same in the list and the single sensor', async () => {
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'tr-1', name: '打田駅前', lat: 34.27, lon: 135.39, intervalS: 60, commissioning: false } })).status).toBe(201);
    const t0 = clock - 4 * MIN;
    await submit('tr-1', t0, 12);
    await submit('tr-1', t0 + MIN, 14);
    expect((await props('tr-1'))?.trend).toBeNull(); // two readings: not enough to say
    await submit('tr-1', t0 + 2 * MIN, 16);
    await submit('tr-1', t0 + 3 * MIN, 18);
    await submit('tr-1', t0 + 4 * MIN, 20);
    // 2 cm/min = 120 cm/h; 危険 30 cm is 10 cm away: 5 min.
    const p = await props('tr-1');
    expect(p).toMatchObject({ status: 'warning', trend: { rate_cm_per_h: 120, window_s: 240, direction: 'rising' }, next_level: 'danger', eta_s: 300 });
    expect(await one('tr-1')).toMatchObject({ trend: p?.trend, next_level: 'danger', eta_s: 300 });
  });

  it('falling: a rate but no next level or time; 欠測: no trend at all', async () => {
    // Up to 24 cm, then ten minutes down to 6 cm: the 10-min window holds only the fall.
    for (const cm of [24, 22, 20, 18, 16, 14, 12, 10, 8, 6]) {
      clock += MIN;
      await submit('tr-1', clock, cm);
    }
    expect(await props('tr-1')).toMatchObject({ trend: { direction: 'falling' }, next_level: null, eta_s: null });
    clock += 10 * MIN; // 3 intervals without a reading
    expect(await props('tr-1')).toMatchObject({ status: 'offline', trend: null, next_level: null, eta_s: null });
  });

  it('a river gauge (site: river): properties.site, negative and >20 m stages accepted, a road sensor refuses them; PATCH changes the site', async () => {
    const body = { id: 'kinokawa-funato', name: '紀の川 船戸', lat: 34.27, lon: 135.36, intervalS: 60, commissioning: false, site: 'river', thresholds: { caution: 250, warning: 330, danger: 380 } };
    const res = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ site: 'river' });
    await submit('kinokawa-funato', clock, -35);
    expect(await props('kinokawa-funato')).toMatchObject({ site: 'river', level_cm: -35, status: 'normal' });
    await submit('kinokawa-funato', clock, 2150); // a large river's flood stage above 20 m
    expect((await k.ingest.submit('kinokawa-funato', Buffer.from(JSON.stringify({ ts: clock, level_cm: 5001 })))).ok).toBe(false);
    // A road sensor: depth below the road is a calibration error, as before.
    expect((await k.ingest.submit('tr-1', Buffer.from(JSON.stringify({ ts: clock, level_cm: -1 })))).ok).toBe(false);
    expect((await props('tr-1'))?.site).toBe('road');
    // Road thresholds stay within 0–2000 cm; a river's may not be refused for being above 20 m.
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'road-neg', name: 'x', lat: 34, lon: 135, thresholds: { caution: -5, warning: 20, danger: 30 } } })).status).toBe(400);
    // A road sensor's 10/20/30 cm are not a river's levels: turning it into a river gauge needs them (issue 12).
    const bare = await consoleFetch(k, 'PATCH', '/api/sensors/tr-1', { token: tech, body: { site: 'river' } });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ error: { code: 'invalid_input', details: { param: 'thresholds' } } });
    expect((await props('tr-1'))?.site).toBe('road');
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/tr-1', { token: tech, body: { site: 'river', thresholds: { caution: 100, warning: 150, danger: 200 } } })).status).toBe(200);
    expect((await props('tr-1'))?.site).toBe('river');
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/tr-1', { token: tech, body: { site: 'lake' } })).status).toBe(400);
  });

  it('a river gauge needs its levels (no road defaults); 水防団待機水位 and 計画高水位 where set, in order, only for a river', async () => {
    const base = { name: '紀の川 竹房', lat: 34.28, lon: 135.4, intervalS: 60, commissioning: false, site: 'river' };
    const bare = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { ...base, id: 'r-bare' } });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ error: { code: 'invalid_input', details: { param: 'thresholds' } } });
    const levels = { standby: 200, caution: 250, warning: 330, danger: 380, planHighWater: 860 };
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { ...base, id: 'r-hwl', thresholds: levels } })).status).toBe(201);
    await submit('r-hwl', clock, 870);
    // Above 計画高水位 is still `danger` (the status vocabulary is unchanged); the levels are in the API, snake_case.
    expect(await props('r-hwl')).toMatchObject({ status: 'danger', level_cm: 870 });
    expect((await props('r-hwl') as unknown as { thresholds: unknown }).thresholds).toEqual({ standby: 200, caution: 250, warning: 330, danger: 380, plan_high_water: 860 });
    // Where not set, not there at all.
    expect((await props('kinokawa-funato') as unknown as { thresholds: unknown }).thresholds).toEqual({ caution: 250, warning: 330, danger: 380 });
    // Rising above 氾濫危険水位: the next level is 計画高水位 (2 cm/min from 808 cm, 52 cm to go: 26 min).
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { ...base, id: 'r-rise', thresholds: levels } })).status).toBe(201);
    for (const [i, cm] of [800, 802, 804, 806, 808].entries()) await submit('r-rise', clock - (4 - i) * MIN, cm);
    expect(await props('r-rise')).toMatchObject({ status: 'danger', next_level: 'plan_high_water', eta_s: 26 * 60 });
    // Out of order, or on a road sensor: a 400 naming the field.
    const low = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { ...base, id: 'r-low', thresholds: { ...levels, planHighWater: 380 } } });
    expect(low.status).toBe(400);
    expect(await low.json()).toMatchObject({ error: { details: { param: 'thresholds.planHighWater' } } });
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { ...base, id: 'r-sb', thresholds: { ...levels, standby: 250 } } })).status).toBe(400);
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'road-hwl', name: 'x', lat: 34, lon: 135, thresholds: { caution: 10, warning: 20, danger: 30, planHighWater: 50 } } })).status).toBe(400);
    // The alert settings' thresholds are checked the same way.
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'road-2', name: 'x', lat: 34, lon: 135 } })).status).toBe(201);
    const viaSettings = await consoleFetch(k, 'PUT', '/api/sensors/road-2/alert-settings', { token: tech, body: { preset: 'road_underpass', thresholds: { caution: 10, warning: 20, danger: 30, planHighWater: 50 } } });
    expect(viaSettings.status).toBe(400);
    expect(await viaSettings.json()).toMatchObject({ error: { details: { param: 'thresholds' } } });
    expect((await consoleFetch(k, 'PUT', '/api/sensors/tr-1/alert-settings', { token: tech, body: { preset: 'river_channel', thresholds: { caution: 100, warning: 150, danger: 200, planHighWater: 300 } } })).status).toBe(200);
    expect((await props('tr-1') as unknown as { thresholds: unknown }).thresholds).toEqual({ caution: 100, warning: 150, danger: 200, plan_high_water: 300 });
    // PATCH clears 計画高水位 by giving the thresholds without it.
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/r-hwl', { token: tech, body: { thresholds: { caution: 250, warning: 330, danger: 380 } } })).status).toBe(200);
    expect((await props('r-hwl') as unknown as { thresholds: unknown }).thresholds).toEqual({ caution: 250, warning: 330, danger: 380 });
  });
});
