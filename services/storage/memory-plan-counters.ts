import type { PlanCounterRepository, PlanMetric } from '../core/plan-indicators.ts';

/** Plan indicators in memory (tests); same contract as the SQLite adapter. */
export function createMemoryPlanCounters(): PlanCounterRepository {
  const rows = new Map<string, number>();
  const key = (day: string, metric: PlanMetric) => `${day}\u0000${metric}`;
  return {
    add: (day, metric, n) => void rows.set(key(day, metric), (rows.get(key(day, metric)) ?? 0) + n),
    set: (day, metric, value) => void rows.set(key(day, metric), value),
    range: (from, to) =>
      [...rows.entries()]
        .map(([k, value]) => {
          const [day, metric] = k.split('\u0000') as [string, PlanMetric];
          return { day, metric, value };
        })
        .filter((r) => r.day >= from && r.day <= to)
        .sort((a, b) => a.day.localeCompare(b.day) || a.metric.localeCompare(b.metric)),
  };
}
