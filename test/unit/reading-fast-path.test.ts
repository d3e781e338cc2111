import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReading, readPlainPayload, ReadingPayloadSchema } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';

/**
 * The ingest checks the common payload without zod (readPlainPayload, issue
 * 15's ingest speed). It must never accept what ReadingPayloadSchema refuses,
 * nor give another result for what it accepts.
 */
describe('reading payload fast path', () => {
  const FIELDS = ['ts', 'level_cm', 'distance_mm', 'seq', 'battery_v', 'rssi_dbm', 'battery_pct', 'snr_db', 'wet_cm', 'extra', '__proto__', 'constructor'];
  const value = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(0, -0, 1, -1, 60, 60.0001, 100, 100.5, -50, 50, -200, 0, 8.64e15, 8.64e15 + 2, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1.5, Date.now()),
    fc.constant(null),
    fc.string(),
    fc.constant('2026-12-03T10:00:00+09:00'),
    fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 3 }),
    fc.boolean(),
  );
  const anything = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 });
  // Near the edge of valid: one level field and a few number fields, each number maybe out of its range.
  const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }), fc.constantFrom(0, 60, 100, -50, 50, -200, Date.now(), 8.64e15, 8.64e15 + 2));
  const nearlyValid = fc.record(
    { level: fc.constantFrom('level_cm', 'distance_mm'), v: number, extra: fc.dictionary(fc.constantFrom('ts', 'seq', 'battery_v', 'rssi_dbm', 'battery_pct', 'snr_db'), number, { maxKeys: 4 }) },
  ).map(({ level, v, extra }) => ({ ...extra, [level]: v }));
  const payload = fc.oneof(anything, nearlyValid);

  it('accepts only what the schema accepts, and yields what the schema yields', () => {
    let accepted = 0;
    fc.assert(
      fc.property(payload, (obj) => {
        // Through JSON, as the ingest sees it (own "__proto__" keys, no undefined, no -0).
        const json = JSON.parse(JSON.stringify(obj)) as unknown;
        const fast = readPlainPayload(json);
        if (fast === undefined) return;
        accepted++;
        const slow = ReadingPayloadSchema.safeParse(json);
        expect(slow.success).toBe(true);
        expect({ ...fast }).toEqual(slow.data);
      }),
      { numRuns: 20_000 },
    );
    expect(accepted, 'payloads the fast path took (the property says nothing without them)').toBeGreaterThan(1000);
  });

  it('takes the payloads sensors send', () => {
    const ts = Date.now();
    expect(readPlainPayload(JSON.parse(`{"ts":${ts},"level_cm":12.5,"seq":7,"battery_v":3.61,"rssi_dbm":-71}`))).toBeDefined();
    expect(readPlainPayload(JSON.parse(`{"ts":${ts},"distance_mm":1830}`))).toBeDefined();
    expect(readPlainPayload(JSON.parse('{"level_cm":3}'))).toBeDefined();
  });

  it('leaves the rest to the schema, which still words the refusal', () => {
    for (const body of ['{"level_cm":1,"distance_mm":2}', '{"ts":"2026-12-03T10:00:00+09:00","level_cm":1}', '{"level_cm":1,"fw":"1.2"}', '{"level_cm":"1"}', '{"level_cm":1,"battery_v":61}', '{"__proto__":1,"level_cm":1}']) {
      expect(readPlainPayload(JSON.parse(body)), body).toBeUndefined();
    }
    const sensor = createSensor({ id: 'fp-1', name: 'fp', lat: 34.27, lon: 135.4 }, Date.now());
    const r = parseReading(Buffer.from('{"level_cm":1,"battery_v":61}'), sensor, Date.now());
    expect(r).toMatchObject({ ok: false, reason: 'invalid_schema' });
    expect((r as { detail: string }).detail).toMatch(/^battery_v: /);
    expect(parseReading(Buffer.from('{"level_cm":1e400}'), sensor, Date.now())).toMatchObject({ ok: false, reason: 'non_finite' });
  });
});
