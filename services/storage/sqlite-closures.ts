import type { Closure, ClosureRepository } from '../core/closure.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

/**
 * Road closures (issue 13) in the metadata database (kansui.db), on the
 * connection the composition root opened. Lifted closures are kept: the
 * event report after a storm lists them.
 */
const MIGRATIONS = [
  `CREATE TABLE road_closures (
     id TEXT PRIMARY KEY,
     sensor_id TEXT NOT NULL,
     reason TEXT NOT NULL,
     since INTEGER NOT NULL,
     by TEXT NOT NULL,
     lifted_at INTEGER,
     lifted_by TEXT
   );
   CREATE INDEX road_closures_open ON road_closures (sensor_id) WHERE lifted_at IS NULL;
   CREATE INDEX road_closures_since ON road_closures (since);`,
];

type Row = { id: string; sensor_id: string; reason: string; since: number; by: string; lifted_at: number | null; lifted_by: string | null };

function toClosure(r: Row): Closure {
  return { id: r.id, sensorId: r.sensor_id, reason: r.reason, since: r.since, by: r.by, liftedAt: r.lifted_at ?? undefined, liftedBy: r.lifted_by ?? undefined };
}

export function createSqliteClosures(db: SqliteDatabase): ClosureRepository {
  migrate(db, 'closures', MIGRATIONS);
  const q = {
    insert: db.prepare('INSERT INTO road_closures (id, sensor_id, reason, since, by) VALUES (?, ?, ?, ?, ?)'),
    lift: db.prepare('UPDATE road_closures SET lifted_at = ?, lifted_by = ? WHERE id = ? AND lifted_at IS NULL'),
    get: db.prepare('SELECT * FROM road_closures WHERE id = ?'),
    open: db.prepare('SELECT * FROM road_closures WHERE lifted_at IS NULL ORDER BY since, id'),
    overlapping: db.prepare('SELECT * FROM road_closures WHERE since <= ? AND (lifted_at IS NULL OR lifted_at >= ?) ORDER BY since, id'),
  };
  return {
    insert(c) {
      q.insert.run(c.id, c.sensorId, c.reason, c.since, c.by);
    },
    lift(id, by, at) {
      return q.lift.run(at, by, id).changes > 0;
    },
    get(id) {
      const r = q.get.get(id) as Row | undefined;
      return r ? toClosure(r) : undefined;
    },
    open() {
      return (q.open.all() as Row[]).map(toClosure);
    },
    overlapping(from, to) {
      return (q.overlapping.all(to, from) as Row[]).map(toClosure);
    },
  };
}
