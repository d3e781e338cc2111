import type { PlanCounterRepository, PlanMetric } from '../core/plan-indicators.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

/** Plan indicators (issue 13): one number per day and metric, in kansui.db. Nothing about who viewed. */
const MIGRATIONS = [`CREATE TABLE plan_counters (day TEXT NOT NULL, metric TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (day, metric)) WITHOUT ROWID;`];

export function createSqlitePlanCounters(db: SqliteDatabase): PlanCounterRepository {
  migrate(db, 'plan', MIGRATIONS);
  const add = db.prepare('INSERT INTO plan_counters (day, metric, value) VALUES (?, ?, ?) ON CONFLICT(day, metric) DO UPDATE SET value = value + excluded.value');
  const set = db.prepare('INSERT INTO plan_counters (day, metric, value) VALUES (?, ?, ?) ON CONFLICT(day, metric) DO UPDATE SET value = excluded.value');
  const range = db.prepare('SELECT day, metric, value FROM plan_counters WHERE day >= ? AND day <= ? ORDER BY day, metric');
  return {
    add: (day, metric, n) => void add.run(day, metric, n),
    set: (day, metric, value) => void set.run(day, metric, value),
    range: (from, to) => range.all(from, to) as { day: string; metric: PlanMetric; value: number }[],
  };
}
