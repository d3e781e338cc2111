import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../services/core/limits.ts';
import { parseReading, REJECT_REASONS } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';

const NOW = Date.parse('2026-07-01T12:00:00+09:00');
const level = createSensor({ id: 's1', name: 'アンダーパス', lat: 34.27, lon: 135.4 }, NOW);
const distance = createSensor({ id: 'd1', name: '距離', lat: 34.27, lon: 135.4, mountHeightMm: 3000, minRangeMm: 250 }, NOW);
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseReading', () => {
  it('accepts level_cm with an ISO timestamp with offset, epoch ms, or none (= now)', () => {
    expect(parseReading(bytes({ ts: '2026-07-01T11:59:00+09:00', level_cm: 12.5 }), level, NOW)).toEqual({
      ok: true,
      reading: { sensorId: 's1', observedAt: NOW - 60_000, levelCm: 12.5 },
    });
    expect(parseReading(bytes({ ts: NOW - 1000, level_cm: 0 }), level, NOW)).toMatchObject({ ok: true, reading: { observedAt: NOW - 1000 } });
    expect(parseReading(bytes({ level_cm: 3 }), level, NOW)).toMatchObject({ ok: true, reading: { observedAt: NOW } });
  });

  it('keeps the optional fields', () => {
    const r = parseReading(bytes({ level_cm: 3, seq: 7, battery_v: 3.61, rssi_dbm: -97 }), level, NOW);
    expect(r).toMatchObject({ ok: true, reading: { seq: 7, batteryV: 3.61, rssiDbm: -97 } });
  });

  it('turns distance into depth: mount height − distance, clamped at 0', () => {
    expect(parseReading(bytes({ distance_mm: 2750 }), distance, NOW)).toMatchObject({ ok: true, reading: { levelCm: 25, distanceMm: 2750 } });
    expect(parseReading(bytes({ distance_mm: 3020 }), distance, NOW)).toMatchObject({ ok: true, reading: { levelCm: 0 } });
  });

  it.each([
    ['malformed JSON', '{"level_cm": ', 'malformed_json'],
    ['wrong type', { level_cm: '12' }, 'invalid_schema'],
    ['both level and distance', { level_cm: 1, distance_mm: 2 }, 'invalid_schema'],
    ['neither', { ts: NOW }, 'invalid_schema'],
    ['an array', [1, 2], 'invalid_schema'],
    ['null', 'null', 'invalid_schema'],
    ['1e400 (Infinity)', '{"level_cm": 1e400}', 'non_finite'],
    ['-1e400', '{"level_cm": -1e400}', 'non_finite'],
    ['a negative level', { level_cm: -0.5 }, 'level_out_of_range'],
    ['an absurd level', { level_cm: 1e6 }, 'level_out_of_range'],
    ['ts without offset', { ts: '2026-07-01T12:00:00', level_cm: 1 }, 'invalid_schema'],
    ['ts 5 min + 1 s ahead', { ts: NOW + LIMITS.maxFutureSkewMs + 1000, level_cm: 1 }, 'ts_in_future'],
    ['ts 7 days + 1 s old', { ts: NOW - LIMITS.maxAgeMs - 1000, level_cm: 1 }, 'ts_too_old'],
    ['a fractional seq', { level_cm: 1, seq: 1.5 }, 'invalid_schema'],
  ])('rejects %s', (_name, payload, reason) => {
    const r = parseReading(bytes(payload), level, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('rejects payloads over 4 KiB before parsing them', () => {
    const big = bytes({ level_cm: 1, pad: 'x'.repeat(LIMITS.maxPayloadBytes) });
    expect(parseReading(big, level, NOW)).toMatchObject({ ok: false, reason: 'payload_too_large' });
  });

  it('rejects distance inside the blind zone, and distance from an uncalibrated sensor', () => {
    expect(parseReading(bytes({ distance_mm: 100 }), distance, NOW)).toMatchObject({ ok: false, reason: 'below_min_range' });
    expect(parseReading(bytes({ distance_mm: 1000 }), level, NOW)).toMatchObject({ ok: false, reason: 'not_calibrated' });
  });

  it('rejects readings from a retired sensor', () => {
    expect(parseReading(bytes({ level_cm: 1 }), { ...level, state: 'retired' }, NOW)).toMatchObject({ ok: false, reason: 'sensor_retired' });
  });

  it('never throws, and always answers with a reading or a known reason (any bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (raw) => {
        const r = parseReading(raw, level, NOW);
        if (!r.ok) expect(REJECT_REASONS).toContain(r.reason);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON values, and what it accepts is within limits', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            ts: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
            level_cm: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null)),
            distance_mm: fc.oneof(fc.double(), fc.integer({ min: 0, max: 60_000 })),
            seq: fc.oneof(fc.integer(), fc.double()),
            battery_v: fc.double(),
          },
          { requiredKeys: [] },
        ),
        (payload) => {
          const r = parseReading(bytes(payload), distance, NOW);
          if (r.ok) {
            expect(Number.isFinite(r.reading.levelCm)).toBe(true);
            expect(r.reading.levelCm).toBeGreaterThanOrEqual(LIMITS.minLevelCm);
            expect(r.reading.levelCm).toBeLessThanOrEqual(LIMITS.maxLevelCm);
            expect(r.reading.observedAt).toBeLessThanOrEqual(NOW + LIMITS.maxFutureSkewMs);
            expect(r.reading.observedAt).toBeGreaterThanOrEqual(NOW - LIMITS.maxAgeMs);
          } else {
            expect(REJECT_REASONS).toContain(r.reason);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('accepts every well-formed reading within the limits (round trip)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: LIMITS.maxLevelCm, noNaN: true }),
        fc.integer({ min: -LIMITS.maxAgeMs + 1, max: LIMITS.maxFutureSkewMs }),
        fc.option(fc.nat(), { nil: undefined }),
        (levelCm, offset, seq) => {
          const r = parseReading(bytes({ ts: NOW + offset, level_cm: levelCm, seq }), level, NOW);
          expect(r).toEqual({ ok: true, reading: { sensorId: 's1', observedAt: NOW + offset, levelCm, ...(seq !== undefined && { seq }) } });
        },
      ),
      { numRuns: 1000 },
    );
  });
});
