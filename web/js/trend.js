// Rising or falling, in cm per 10 minutes, from the recent readings.

/** Look back this far: long enough to smooth sensor noise, short enough to show a fresh rise. */
const WINDOW_MS = 30 * 60_000;
/** Below this rate (cm/10 min) the level is "steady"; smaller changes are within sensor noise. */
const STEADY_CM = 0.5;

/**
 * Least-squares slope of the readings in the last 30 min before the newest one.
 * @param {{t:number, v:number}[]} points in time order
 * @returns {{ direction: 'rising'|'falling'|'steady', cmPer10Min: number } | null} null when under 2 readings span ≥ 5 min
 */
export function computeTrend(points) {
  const last = points[points.length - 1];
  if (!last) return null;
  const recent = points.filter((p) => p.t >= last.t - WINDOW_MS);
  const first = recent[0];
  if (recent.length < 2 || !first || last.t - first.t < 5 * 60_000) return null;
  const n = recent.length;
  const mt = recent.reduce((a, p) => a + p.t, 0) / n;
  const mv = recent.reduce((a, p) => a + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of recent) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  const cmPer10Min = den === 0 ? 0 : (num / den) * 600_000;
  const direction = Math.abs(cmPer10Min) < STEADY_CM ? 'steady' : cmPer10Min > 0 ? 'rising' : 'falling';
  return { direction, cmPer10Min };
}
