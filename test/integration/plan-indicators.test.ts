import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarisePlan } from '../../services/core/plan-indicators.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

/** Issue 13, "for the plan's targets": map views per day and month without cookies or addresses, subscribers per channel, CSV. */
describe('plan indicators', () => {
  let k: TestKansui;
  let staff: string;
  beforeAll(async () => {
    k = await startTestKansui();
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('counts each new public connection to the live stream, sets no cookie, keeps no address; per day, per month, CSV', async () => {
    /** Open the stream as the map does, and hang up once it answers. */
    const open = async (headers: Record<string, string>, query = '') => {
      const ac = new AbortController();
      const res = await fetch(`${k.httpUrl}/api/events${query}`, { headers, signal: ac.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toBeNull();
      ac.abort();
    };
    for (let i = 0; i < 3; i++) await open({ 'X-Forwarded-For': `203.0.113.${i}` });
    // Reconnects (the browser's own, with Last-Event-ID, and the map's, with ?lastEventId=) and signed-in staff are not views.
    await open({ 'Last-Event-ID': 'x-1' });
    await open({}, '?lastEventId=x-1');
    await open({ Authorization: `Bearer ${staff}` });
    const res = await fetch(`${k.httpUrl}/api/plan/indicators?by=day`, { headers: { Authorization: `Bearer ${staff}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: { period: string; map_views: number; subscribers_webpush: number | null; subscribers_line: number | null }[]; now: { subscribers_webpush: number; subscribers_line: number | null } };
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]).toMatchObject({ map_views: 3, subscribers_webpush: 0, subscribers_line: null });
    expect(body.now).toEqual({ subscribers_webpush: 0, subscribers_line: null });
    const month = (await (await fetch(`${k.httpUrl}/api/plan/indicators?by=month&format=csv`, { headers: { Authorization: `Bearer ${staff}` } })).text()).split('\r\n');
    expect(month[0]).toContain('地図の閲覧数/map_views');
    expect(month[1]).toMatch(/^\d{4}-\d{2},3,,0$/);
    // What is stored is a number per day and metric, nothing about the viewer.
    const cols = (k.db.prepare('PRAGMA table_info(plan_counters)').all() as { name: string }[]).map((c) => c.name);
    expect(cols).toEqual(['day', 'metric', 'value']);
    expect(JSON.stringify(k.db.prepare('SELECT * FROM plan_counters').all())).not.toContain('203.0.113');
    expect((await fetch(`${k.httpUrl}/api/plan/indicators`)).status).toBe(401);
  });

  it('a month is the sum of its days’ views and the subscribers at its last day', () => {
    const rows = summarisePlan(
      [
        { day: '2026-06-30', metric: 'map_views', value: 5 },
        { day: '2026-07-01', metric: 'map_views', value: 10 },
        { day: '2026-07-01', metric: 'subscribers_line', value: 100 },
        { day: '2026-07-31', metric: 'map_views', value: 2 },
        { day: '2026-07-31', metric: 'subscribers_line', value: 120 },
      ],
      'month',
    );
    expect(rows).toEqual([
      { period: '2026-06', map_views: 5, subscribers_line: null, subscribers_webpush: null },
      { period: '2026-07', map_views: 12, subscribers_line: 120, subscribers_webpush: null },
    ]);
  });
});
