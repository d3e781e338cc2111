import { describe, expect, it } from 'vitest';
import { classifyLevel, computeStatus } from '../../services/core/status.ts';
import { createSensor, DEFAULT_THRESHOLDS } from '../../services/core/sensor.ts';
import { distanceToDepth } from '../../services/core/calibration.ts';
import { parseReadingTopic, maySubscribe } from '../../services/core/topic.ts';
import { formatIso, parseTimeParam } from '../../services/core/time.ts';

const sensor = createSensor({ id: 's1', name: 'x', lat: 0, lon: 0, intervalS: 60 }, 0);

describe('status', () => {
  it('classifies by the 10 / 20 / 30 cm defaults, each threshold inclusive', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ caution: 10, warning: 20, danger: 30 });
    expect([0, 9.9, 10, 19.9, 20, 29.9, 30, 150].map((l) => classifyLevel(l, sensor.thresholds))).toEqual([
      'normal', 'normal', 'caution', 'caution', 'warning', 'warning', 'danger', 'danger',
    ]);
  });

  it('is offline with no reading, and after 3 × the reporting interval of silence', () => {
    const t = 1_000_000;
    expect(computeStatus(sensor, undefined, t)).toBe('offline');
    expect(computeStatus(sensor, { levelCm: 35, observedAt: t }, t + 3 * 60_000 - 1)).toBe('danger');
    expect(computeStatus(sensor, { levelCm: 35, observedAt: t }, t + 3 * 60_000)).toBe('offline');
  });
});

describe('sensor input', () => {
  it('fills defaults and infers the distance kind from a mount height', () => {
    expect(sensor).toMatchObject({ kind: 'level', intervalS: 60, state: 'active', thresholds: DEFAULT_THRESHOLDS });
    expect(createSensor({ id: 'd', name: 'd', lat: 0, lon: 0, mountHeightMm: 2000 }, 0).kind).toBe('distance');
  });

  it.each([
    [{ id: 'a/b' }, 'id'],
    [{ id: '+' }, 'id'],
    [{ lat: 91 }, 'lat'],
    [{ lon: -181 }, 'lon'],
    [{ thresholds: { caution: 30, warning: 20, danger: 10 } }, 'thresholds'],
    [{ intervalS: 1 }, 'intervalS'],
    [{ mountHeightMm: 1000, minRangeMm: 1000 }, 'minRangeMm'],
  ])('rejects %o', (patch, path) => {
    expect(() => createSensor({ id: 's', name: 'n', lat: 0, lon: 0, ...patch }, 0)).toThrow(path);
  });
});

describe('calibration', () => {
  it('depth = mount height − distance, in cm, clamped at 0; blind zone rejected', () => {
    expect(distanceToDepth(1800, { mountHeightMm: 2000 })).toEqual({ ok: true, levelCm: 20 });
    expect(distanceToDepth(2100, { mountHeightMm: 2000 })).toEqual({ ok: true, levelCm: 0 });
    expect(distanceToDepth(100, { mountHeightMm: 2000, minRangeMm: 200 })).toEqual({ ok: false, reason: 'below_min_range' });
    expect(distanceToDepth(100, {})).toEqual({ ok: false, reason: 'not_calibrated' });
  });
});

describe('topics', () => {
  it('parses only flood/{id}/reading with a valid id', () => {
    expect(parseReadingTopic('flood/s-1/reading')).toBe('s-1');
    for (const t of ['flood/s1', 'flood/s1/reading/x', 'x/s1/reading', '$SYS/flood/reading', 'flood//reading', 'flood/+/reading']) {
      expect(parseReadingTopic(t)).toBeUndefined();
    }
  });

  it('lets a sensor subscribe under its own id only', () => {
    expect(maySubscribe('s1', 'flood/s1/#')).toBe(true);
    expect(maySubscribe('s1', 'flood/s1/config')).toBe(true);
    for (const f of ['#', 'flood/#', 'flood/+/reading', 'flood/s2/#', '$SYS/#', 'flood/s1/+/x']) expect(maySubscribe('s1', f)).toBe(false);
  });
});

describe('time', () => {
  it('formats ISO 8601 with the Asia/Tokyo offset', () => {
    expect(formatIso(0)).toBe('1970-01-01T09:00:00.000+09:00');
    expect(formatIso(Date.parse('2026-07-01T00:00:00.123Z'), 'UTC')).toBe('2026-07-01T00:00:00.123+00:00');
  });

  it('parses ISO with offset or epoch ms, and refuses a time without offset', () => {
    expect(parseTimeParam('2026-07-01T09:00:00+09:00')).toBe(Date.parse('2026-07-01T00:00:00Z'));
    expect(parseTimeParam('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTimeParam('2026-07-01T09:00:00')).toBeUndefined();
    expect(parseTimeParam('yesterday')).toBeUndefined();
  });
});
