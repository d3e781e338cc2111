import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

/**
 * Issue 10 #12: a time parameter outside what a date can be answered 500 and
 * logged a stack, unauthenticated. Every public and staff query that takes a
 * time must answer 400 naming the parameter, log nothing at error level, and
 * still serve good requests around the bad ones. Real HTTP on loopback.
 */
describe('out-of-range time parameters (issue 10 #12)', () => {
  let k: TestKansui;
  let staff: string;
  let admin: string;
  const logLines: Record<string, unknown>[] = [];
  const NOW = Date.now();

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    k = await startTestKansui({}, { logger: pino({ level: 'info' }, sink) });
    registerSensor(k.registry, { id: 's1', name: '一', lat: 34.27, lon: 135.4 }, NOW);
    await k.store.write([{ sensorId: 's1', observedAt: NOW - 60_000, levelCm: 5 }]);
    staff = createTestToken(k, 'hayashi', 'staff');
    admin = createTestToken(k, 'root', 'admin');
  });
  afterAll(async () => {
    await k?.dispose();
  });

  const get = (path: string, token?: string) =>
    fetch(`${k.httpUrl}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  // The values the attack used, and their neighbours: the edges of ECMAScript's date range, past it, NaN, expanded years.
  const BAD_TIMES = [
    '8640000000000000',
    '-8640000000000000',
    '8640000000000001',
    '-8640000000000001',
    '99999999999999999999',
    '999999999999999999999999',
    '+275760-09-13T00:00:00.001Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:00:00+00:00',
    'NaN',
    'Infinity',
    '1e15',
    '',
  ];

  /** [path without the parameter, parameter name, token]. */
  const ROUTES: [string, string, string?][] = [
    ['/api/sensors/s1/readings?', 'from'],
    ['/api/sensors/s1/readings?', 'to'],
    ['/api/readings.csv?sensor=s1&', 'from'],
    ['/api/readings.csv?sensor=s1&', 'to'],
    ['/api/alerts?', 'from'],
    ['/api/alerts?', 'to'],
    [`/api/reports/event?from=${NOW - 3_600_000}&`, 'to', 'staff'],
    [`/api/reports/event?to=${NOW}&`, 'from', 'staff'],
  ];

  it('answers 400 naming the parameter for each bad time on every route, logs no error, and good requests are still served', async () => {
    const failures: string[] = [];
    for (const [base, param, who] of ROUTES) {
      const token = who === 'staff' ? staff : undefined;
      for (const value of BAD_TIMES) {
        const path = `${base}${param}=${encodeURIComponent(value)}`;
        const res = await get(path, token);
        const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; details?: { param?: string } } };
        if (res.status !== 400 || body.error?.code !== 'invalid_input' || body.error.details?.param !== param || !body.error.message?.startsWith(`${param}:`)) {
          failures.push(`${path} → ${res.status} ${JSON.stringify(body)}`);
        }
      }
    }
    expect(failures).toEqual([]);

    // Good traffic around it: the same routes with sane times answer 200 with the reading.
    const readings = await get(`/api/sensors/s1/readings?from=${NOW - 3_600_000}&to=${NOW}`);
    expect(readings.status).toBe(200);
    expect(((await readings.json()) as { readings: unknown[] }).readings).toHaveLength(1);
    const csv = await get(`/api/readings.csv?sensor=s1&from=${encodeURIComponent(new Date(NOW - 3_600_000).toISOString())}`);
    expect(csv.status).toBe(200);
    expect((await csv.text()).split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
    expect((await get(`/api/alerts?from=${NOW - 3_600_000}`)).status).toBe(200);
    expect((await get(`/api/reports/event?from=${NOW - 3_600_000}&to=${NOW}`, staff)).status).toBe(200);
    // The edges of the accepted range still work (no 500 from the default window or the +09:00 offset).
    for (const edge of ['1000-01-02T00:00:00Z', '9999-12-30T00:00:00Z']) {
      expect((await get(`/api/sensors/s1/readings?to=${encodeURIComponent(edge)}`)).status).toBe(200);
    }

    // Numbers that are not times: out-of-range limits and ids are 400 too.
    for (const [path, param, token] of [
      ['/api/alerts?limit=1e400', 'limit', undefined],
      ['/api/alerts?limit=NaN', 'limit', undefined],
      ['/api/sensors/s1/readings?bucket=-1', 'bucket', undefined],
      ['/api/sensors/s1/readings?bucket=9007199254740993', 'bucket', undefined],
      ['/api/audit?before=1e300', 'before', admin],
      ['/api/audit?limit=Infinity', 'limit', admin],
    ] as const) {
      const res = await get(path, token);
      const body = (await res.json()) as { error: { details?: { param?: string } } };
      expect([path, res.status, body.error.details?.param]).toEqual([path, 400, param]);
    }

    // Day parameters of the plan indicators (YYYY-MM-DD): an impossible date is a 400 too.
    for (const value of ['2026-99-99', '0000-00-00', '2026-02-30']) {
      const res = await get(`/api/plan/indicators?from=${value}`, staff);
      expect([value, res.status]).toEqual([value, 400]);
    }

    // Nothing at error level (pino: 50) and no stack anywhere in the log.
    expect(logLines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(logLines.filter((l) => JSON.stringify(l).includes('    at '))).toEqual([]);
  });
});
