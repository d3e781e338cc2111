import { describe, expect, it } from 'vitest';
import { computeTrend, createTrendWindow, roundEtaS } from '../../services/core/trend.ts';

const road = { caution: 10, warning: 20, danger: 30 };
const MIN = 60_000;
/** Readings every `stepMin` minutes from a list of levels, starting at `t0`. */
function series(levels: number[], stepMin = 1, t0 = 0) {
  return levels.map((levelCm, i) => ({ observedAt: t0 + i * stepMin * MIN, levelCm }));
}

describe('computeTrend (issue 12)', () => {
  it('a steep rise right after a previous storm is Rising, not Falling', () => {
    // The demo's two storms at 1-min readings: the first falls from 38 to 4 cm over 30 min,
    // then the second rises 4 → 29 cm in 9 min. The old 30-min window saw −76.9 cm/10 min here.
    const fall = series(Array.from({ length: 31 }, (_, i) => 38 - (34 * i) / 30));
    const rise = series([4, 6, 9, 12, 15, 18, 21, 24, 26, 29], 1, 31 * MIN);
    const t = computeTrend([...fall, ...rise], { thresholds: road, intervalS: 60 });
    expect(t?.direction).toBe('rising');
    expect(t?.rateCmPerH).toBeGreaterThan(100);
    expect(t?.nextLevel).toBe('danger');
    // 1 cm to 30 cm at ~2.6 cm/min (a fitted line through the window): about a minute.
    expect(t?.etaS).toBe(60);
  });

  it('rising through 危険 is still a trend (no next level, no estimate)', () => {
    const t = computeTrend(series([24, 27, 29, 31, 34, 37]), { thresholds: road, intervalS: 60 });
    expect(t).toMatchObject({ direction: 'rising', points: 6, windowS: 300 });
    expect(t?.nextLevel).toBeUndefined();
    expect(t?.etaS).toBeUndefined();
  });

  it('a recorded fall is Falling with no estimate', () => {
    const t = computeTrend(series([31.9, 30.2, 28.8, 27.1, 25.5, 24.0, 22.6, 21.1, 19.9, 18.4, 17.0]), { thresholds: road, intervalS: 60 });
    expect(t?.direction).toBe('falling');
    expect(t?.rateCmPerH).toBeCloseTo(-89, 0);
    expect(t?.nextLevel).toBeUndefined();
    expect(t?.etaS).toBeUndefined();
  });

  it('steady within ±3 cm/h; no trend from fewer than 3 readings', () => {
    expect(computeTrend(series([12, 12.02, 11.99, 12.01]), { thresholds: road, intervalS: 60 })?.direction).toBe('steady');
    expect(computeTrend(series([5, 9]), { thresholds: road, intervalS: 60 })).toBeUndefined();
    expect(computeTrend([], { thresholds: road, intervalS: 60 })).toBeUndefined();
  });

  it('ignores readings before a gap longer than 3 intervals', () => {
    // Falling before a 10-min outage (1-min sensor), rising after it with only two readings: no trend.
    const before = series([30, 25, 20, 15]);
    const after = series([16, 18], 1, 14 * MIN);
    expect(computeTrend([...before, ...after], { thresholds: road, intervalS: 60 })).toBeUndefined();
    const t = computeTrend([...before, ...series([16, 18, 20], 1, 14 * MIN)], { thresholds: road, intervalS: 60, windowMs: 30 * MIN });
    expect(t).toMatchObject({ direction: 'rising', points: 3, windowS: 120 });
  });

  it('estimates only with a good fit: a noisy rise gives a direction but no time', () => {
    const noisy = computeTrend(series([10, 18, 11, 19, 12, 17, 14]), { thresholds: road, intervalS: 60 });
    expect(noisy?.direction).toBe('rising');
    expect(noisy?.r2).toBeLessThan(0.8);
    expect(noisy?.etaS).toBeUndefined();
  });

  it('a 10-minute sensor uses 2 intervals, and far estimates are rounded or withheld', () => {
    // 600-s reports rising 1 cm each: 6 cm/h, from 21 to 30 cm is 9 cm → 1.5 h → 90 min (5-min step).
    const t = computeTrend(series([19, 20, 21], 10), { thresholds: road, intervalS: 600 });
    expect(t).toMatchObject({ direction: 'rising', rateCmPerH: 6, nextLevel: 'danger', etaS: 90 * 60 });
    // 6 cm/h from 1 cm to a 30 cm 注意 is 4.8 h: beyond 3 h, no estimate.
    expect(computeTrend(series([-1, 0, 1], 10), { thresholds: { caution: 30, warning: 40, danger: 50 }, intervalS: 600 })?.etaS).toBeUndefined();
  });

  it('river stages in cm (issue 12): 氾濫危険水位 at 380 cm, rising 40 cm/h from 370 cm → 15 min', () => {
    const river = { caution: 250, warning: 330, danger: 380 };
    const t = computeTrend(series([363.33, 366.67, 370], 5), { thresholds: river, intervalS: 300 });
    expect(t).toMatchObject({ direction: 'rising', nextLevel: 'danger', etaS: 15 * 60 });
  });

  it('above 氾濫危険水位, a river gauge heads for its 計画高水位 where set; without one, nothing is next', () => {
    const river = { caution: 250, warning: 330, danger: 380, standby: 200, planHighWater: 560 };
    // 40 cm/h from 520 cm: 40 cm to 計画高水位 → 60 min.
    expect(computeTrend(series([513.33, 516.67, 520], 5), { thresholds: river, intervalS: 300 })).toMatchObject({ direction: 'rising', nextLevel: 'planHighWater', etaS: 60 * 60 });
    const { planHighWater: _, ...without } = river;
    const t = computeTrend(series([513.33, 516.67, 520], 5), { thresholds: without, intervalS: 300 });
    expect(t?.nextLevel).toBeUndefined();
    // Below 氾濫注意水位 the next level is still 氾濫注意水位, never 水防団待機水位.
    expect(computeTrend(series([203.33, 206.67, 210], 5), { thresholds: river, intervalS: 300 })?.nextLevel).toBe('caution');
  });

  it('rounds to the minute under 30 min, 5 min under 90, 15 beyond', () => {
    expect(roundEtaS(10)).toBe(60);
    expect(roundEtaS(8 * 60 + 20)).toBe(8 * 60);
    expect(roundEtaS(47 * 60)).toBe(45 * 60);
    expect(roundEtaS(100 * 60)).toBe(105 * 60);
  });
});

describe('createTrendWindow', () => {
  it('keeps readings in time order, drops duplicates and the old', () => {
    const w = createTrendWindow();
    w.add('a', { observedAt: 2 * MIN, levelCm: 2 }, 10 * MIN);
    w.add('a', { observedAt: 1 * MIN, levelCm: 1 }, 10 * MIN);
    w.add('a', { observedAt: 2 * MIN, levelCm: 9 }, 10 * MIN);
    w.add('a', { observedAt: 12 * MIN, levelCm: 3 }, 10 * MIN);
    expect(w.get('a')).toEqual([{ observedAt: 2 * MIN, levelCm: 2 }, { observedAt: 12 * MIN, levelCm: 3 }]);
    expect(w.get('b')).toEqual([]);
  });
});
