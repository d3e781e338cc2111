import { createError } from '../core/errors.ts';
import type { SensorCredential, SensorRegistry } from '../core/ports.ts';
import { SensorSchema, type Sensor } from '../core/sensor.ts';
import type { SqliteDatabase } from './sqlite.ts';
import { migrate } from './sqlite.ts';

export const METADATA_MIGRATIONS: string[] = [
  `CREATE TABLE sensors (
     id            TEXT PRIMARY KEY,
     data          TEXT NOT NULL,
     password_hash TEXT,
     created_at    INTEGER NOT NULL,
     updated_at    INTEGER NOT NULL
   );`,
];

/**
 * Sensors and their MQTT credential hashes in the metadata database
 * (DATA_DIR/kansui.db). Reads are served from memory; `refresh()` reloads
 * when another connection (the `kansui` CLI in another process) committed,
 * detected with `PRAGMA data_version` at the cost of one tiny query.
 */
export function createSqliteSensorRegistry(db: SqliteDatabase): SensorRegistry {
  migrate(db, 'sensors', METADATA_MIGRATIONS);
  const selectAll = db.prepare('SELECT data FROM sensors ORDER BY id');
  const insert = db.prepare(
    'INSERT INTO sensors (id, data, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
  );
  const updateData = db.prepare('UPDATE sensors SET data = ?, updated_at = ? WHERE id = ?');
  const updateHash = db.prepare('UPDATE sensors SET password_hash = ? WHERE id = ?');
  const selectHash = db.prepare('SELECT password_hash AS h FROM sensors WHERE id = ?');
  const dataVersion = db.prepare('PRAGMA data_version').pluck();

  let cache = new Map<string, Sensor>();
  let seenVersion = -1;

  function reload(): void {
    const next = new Map<string, Sensor>();
    for (const row of selectAll.all() as { data: string }[]) {
      const sensor = SensorSchema.parse(JSON.parse(row.data));
      next.set(sensor.id, sensor);
    }
    cache = next;
  }

  function refresh(): boolean {
    const v = dataVersion.get() as number;
    if (v === seenVersion) return false;
    seenVersion = v;
    reload();
    return true;
  }
  refresh();

  return {
    list: () => [...cache.values()],
    get: (id) => cache.get(id),
    create(sensor, credential) {
      try {
        insert.run(sensor.id, JSON.stringify(sensor), credential.passwordHash, sensor.createdAt, sensor.updatedAt);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw createError('conflict', `sensor ${sensor.id} already exists`);
        }
        throw err;
      }
      cache.set(sensor.id, sensor);
    },
    update(id, patch) {
      refresh();
      const current = cache.get(id);
      if (!current) throw createError('not_found', `unknown sensor ${id}`);
      const next = SensorSchema.parse({ ...current, ...patch, id, createdAt: current.createdAt });
      updateData.run(JSON.stringify(next), next.updatedAt, id);
      cache.set(id, next);
      return next;
    },
    setCredential(id, credential: SensorCredential | null) {
      if (updateHash.run(credential?.passwordHash ?? null, id).changes === 0) {
        throw createError('not_found', `unknown sensor ${id}`);
      }
    },
    getCredential(id) {
      // Always from disk: a rotation by the CLI must take effect at the next CONNECT.
      const row = selectHash.get(id) as { h: string | null } | undefined;
      return row?.h ? { passwordHash: row.h } : undefined;
    },
    refresh,
  };
}
