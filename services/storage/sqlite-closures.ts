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
  // Drawn road segments (issue 13): sensor_id becomes optional, the segment is kept as JSON.
  `CREATE TABLE road_closures_v2 (
     id TEXT PRIMARY KEY,
     sensor_id TEXT,
     segment TEXT,
     reason TEXT NOT NULL,
     since INTEGER NOT NULL,
     by TEXT NOT NULL,
     lifted_at INTEGER,
     lifted_by TEXT,
     CHECK (sensor_id IS NOT NULL OR segment IS NOT NULL)
   );
   INSERT INTO road_closures_v2 (id, sensor_id, segment, reason, since, by, lifted_at, lifted_by)
     SELECT id, sensor_id, NULL, reason, since, by, lifted_at, lifted_by FROM road_closures;
   DROP TABLE road_closures;
   ALTER TABLE road_closures_v2 RENAME TO road_closures;
   CREATE INDEX road_closures_open ON road_closures (sensor_id) WHERE lifted_at IS NULL;
   CREATE INDEX road_closures_since ON road_closures (since);`,
];

type Row = { id: string; sensor_id: string | null; segment: string | null; reason: string; since: number; by: string; lifted_at: number | null; lifted_by: string | null };

function toClosure(r: Row): Closure {
  return { id: r.id, sensorId: r.sensor_id ?? undefined, segment: r.segment ? (JSON.parse(r.segment) as Closure['segment']) : undefined, reason: r.reason, since: r.since, by: r.by, liftedAt: r.lifted_at ?? undefined, liftedBy: r.lifted_by ?? undefined };
}

export function createSqliteClosures(db: SqliteDatabase): ClosureRepository {
  migrate(db, 'closures', MIGRATIONS);
  const q = {
    insert: db.prepare('INSERT INTO road_closures (id, sensor_id, segment, reason, since, by) VALUES (?, ?, ?, ?, ?, ?)'),
    lift: db.prepare('UPDATE road_closures SET lifted_at = ?, lifted_by = ? WHERE id = ? AND lifted_at IS NULL'),
    get: db.prepare('SELECT * FROM road_closures WHERE id = ?'),
    open: db.prepare('SELECT * FROM road_closures WHERE lifted_at IS NULL ORDER BY since, id'),
    overlapping: db.prepare('SELECT * FROM road_closures WHERE since <= ? AND (lifted_at IS NULL OR lifted_at >= ?) ORDER BY since, id'),
  };
  return {
    insert(c) {
      q.insert.run(c.id, c.sensorId ?? null, c.segment ? JSON.stringify(c.segment) : null, c.reason, c.since, c.by);
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
