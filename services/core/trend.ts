import { LIMITS } from './limits.ts';
import type { Thresholds } from './sensor.ts';

/**
 * Trend and time to the next level (issue 12): one function for the map, the
 * API, alert texts and LINE pushes, so they never disagree.
 *
 * The rules, stated once (docs/map.md, "Trend and time to the next level"):
 * - Window: the readings of the last `windowMs` before the newest reading
 *   (TREND_WINDOW_MIN, default 10 min), widened to 2 × the sensor's reporting
 *   interval so a sensor reporting every 10 min still has 3 readings in it.
 *   Anchored on the newest reading, not on the clock: a stale sensor keeps the
 *   trend it had (the map shows it 欠測 anyway, and the API drops the trend then).
 * - Gaps: walking back from the newest reading, the window stops at the first
 *   gap longer than 3 × the reporting interval (the same 3 intervals after
 *   which a sensor counts as 欠測, LIMITS.offlineAfterIntervals): readings
 *   before an outage are another episode, not this one.
 * - Rate: ordinary least squares over the readings left, in cm/h. No trend
 *   from fewer than 3 readings or a span under 1 minute.
 * - Steady: |rate| < 3 cm/h (0.05 cm/min), about the ultrasonic sensors'
 *   accuracy over an hour (docs/alerts.md, dead band).
 * - Time to the next level: only while rising at ≥ 6 cm/h (twice the steady
 *   band), with R² ≥ 0.8 (the straight line explains the rise; a noisy or
 *   bending series gives no estimate) and at most 3 h ahead (further than
 *   that a straight line says nothing about a storm). Rounded: to the minute
 *   under 30 min, to 5 min under 90 min, to 15 min beyond; at least 1 min.
 *   Never while falling or steady, and never above the top level.
 */

export interface TrendPoint {
  observedAt: number;
  levelCm: number;
}

export type TrendDirection = 'rising' | 'falling' | 'steady';
/**
 * The levels a trend can head for: the statuses' thresholds, and above 氾濫危険水位 a river
 * gauge's 計画高水位 where set (issue 12; 水防団待機水位 is below every status and never "next").
 */
export type TrendLevel = 'caution' | 'warning' | 'danger' | 'planHighWater';

export interface Trend {
  /** Least-squares rate, cm per hour, one decimal. */
  rateCmPerH: number;
  direction: TrendDirection;
  /** Seconds between the oldest and newest reading used. */
  windowS: number;
  /** Readings used. */
  points: number;
  /** Coefficient of determination of the straight line (1 when every reading lies on it). */
  r2: number;
  /** The next level above the newest reading while rising (with or without an estimate). */
  nextLevel?: TrendLevel;
  /** Rounded seconds to `nextLevel` at this rate, when the fit is good enough (see the rules). */
  etaS?: number;
}

export const TREND_RULES = {
  defaultWindowMs: 10 * 60_000,
  minPoints: 3,
  minSpanMs: 60_000,
  /** Gap that ends the window, in reporting intervals (the offline rule). */
  gapIntervals: LIMITS.offlineAfterIntervals,
  steadyCmPerH: 3,
  etaMinCmPerH: 6,
  etaMinR2: 0.8,
  etaMaxS: 3 * 3600,
} as const;

const LEVELS: readonly TrendLevel[] = ['caution', 'warning', 'danger', 'planHighWater'];

/** Round an estimate so it never claims more precision than it has. */
export function roundEtaS(s: number): number {
  const min = s / 60;
  const step = min < 30 ? 1 : min < 90 ? 5 : 15;
  return Math.max(1, Math.round(min / step) * step) * 60;
}

/**
 * The trend of a sensor from its recent readings (time order, newest last).
 * Undefined when there is not enough to say (see the rules above).
 *
 * @example
 * computeTrend(points, { thresholds: sensor.thresholds, intervalS: sensor.intervalS })
 * // → { rateCmPerH: 120, direction: 'rising', nextLevel: 'danger', etaS: 480, … }
 */
export function computeTrend(
  points: readonly TrendPoint[],
  opts: { thresholds: Thresholds; intervalS: number; windowMs?: number },
): Trend | undefined {
  const newest = points.at(-1);
  if (!newest) return undefined;
  const windowMs = Math.max(opts.windowMs ?? TREND_RULES.defaultWindowMs, 2 * opts.intervalS * 1000);
  const maxGapMs = TREND_RULES.gapIntervals * opts.intervalS * 1000;
  const used: TrendPoint[] = [newest];
  for (let i = points.length - 2; i >= 0; i--) {
    const p = points[i] as TrendPoint;
    const later = used[used.length - 1] as TrendPoint;
    if (p.observedAt >= later.observedAt) continue; // duplicate or out of order: the later copy stands
    if (p.observedAt < newest.observedAt - windowMs || later.observedAt - p.observedAt > maxGapMs) break;
    used.push(p);
  }
  const oldest = used[used.length - 1] as TrendPoint;
  const spanMs = newest.observedAt - oldest.observedAt;
  if (used.length < TREND_RULES.minPoints || spanMs < TREND_RULES.minSpanMs) return undefined;

  // Ordinary least squares in hours relative to the newest reading (keeps the numbers small).
  const n = used.length;
  let st = 0;
  let sv = 0;
  for (const p of used) {
    st += (p.observedAt - newest.observedAt) / 3_600_000;
    sv += p.levelCm;
  }
  const mt = st / n;
  const mv = sv / n;
  let stt = 0;
  let stv = 0;
  let svv = 0;
  for (const p of used) {
    const dt = (p.observedAt - newest.observedAt) / 3_600_000 - mt;
    const dv = p.levelCm - mv;
    stt += dt * dt;
    stv += dt * dv;
    svv += dv * dv;
  }
  const rate = stv / stt;
  // All readings equal: a perfect (flat) fit.
  const r2 = svv === 0 ? 1 : (stv * stv) / (stt * svv);
  const direction: TrendDirection = Math.abs(rate) < TREND_RULES.steadyCmPerH ? 'steady' : rate > 0 ? 'rising' : 'falling';
  const trend: Trend = {
    rateCmPerH: Math.round(rate * 10) / 10,
    direction,
    windowS: Math.round(spanMs / 1000),
    points: n,
    r2: Math.round(r2 * 1000) / 1000,
  };
  if (direction !== 'rising') return trend;
  const nextLevel = LEVELS.find((l) => (opts.thresholds[l] ?? -Infinity) > newest.levelCm);
  if (!nextLevel) return trend;
  trend.nextLevel = nextLevel;
  const target = opts.thresholds[nextLevel] as number;
  if (rate >= TREND_RULES.etaMinCmPerH && r2 >= TREND_RULES.etaMinR2) {
    const s = ((target - newest.levelCm) / rate) * 3600;
    if (s <= TREND_RULES.etaMaxS) trend.etaS = roundEtaS(s);
  }
  return trend;
}

/**
 * The readings a trend needs, per sensor, in memory: what arrived in the last
 * `keepMs` before each sensor's newest reading. Late readings are kept in
 * order (a QoS 1 backlog after a reconnect arrives in bursts). Empty after a
 * restart: trends come back with the next 3 readings (docs/map.md).
 */
export function createTrendWindow() {
  const recent = new Map<string, TrendPoint[]>();
  return {
    add(sensorId: string, reading: TrendPoint, keepMs: number): void {
      let points = recent.get(sensorId);
      if (!points) recent.set(sensorId, (points = []));
      const p = { observedAt: reading.observedAt, levelCm: reading.levelCm };
      let i = points.length;
      while (i > 0 && (points[i - 1] as TrendPoint).observedAt > p.observedAt) i--;
      if (i > 0 && (points[i - 1] as TrendPoint).observedAt === p.observedAt) return; // duplicate
      points.splice(i, 0, p);
      const newest = (points.at(-1) as TrendPoint).observedAt;
      while (points.length > 1 && (points[0] as TrendPoint).observedAt < newest - keepMs) points.shift();
    },
    get(sensorId: string): readonly TrendPoint[] {
      return recent.get(sensorId) ?? [];
    },
  };
}
export type TrendWindow = ReturnType<typeof createTrendWindow>;
