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
  // Issue 16: the registry's own change counter. PRAGMA data_version moves on a
  // commit by ANY other connection to kansui.db (alerts, the CLI's user
  // commands, LINE, …), so every alert commit made the 5-s sweep re-read every
  // sensor. Triggers keep the counter right whoever writes the table (an older
  // CLI included); a credential rotation does not change what is cached.
  `CREATE TABLE sensors_version (id INTEGER PRIMARY KEY CHECK (id = 1), v INTEGER NOT NULL);
   INSERT INTO sensors_version (id, v) VALUES (1, 0);
   CREATE TRIGGER sensors_inserted AFTER INSERT ON sensors BEGIN UPDATE sensors_version SET v = v + 1 WHERE id = 1; END;
   CREATE TRIGGER sensors_updated AFTER UPDATE OF id, data ON sensors BEGIN UPDATE sensors_version SET v = v + 1 WHERE id = 1; END;
   CREATE TRIGGER sensors_deleted AFTER DELETE ON sensors BEGIN UPDATE sensors_version SET v = v + 1 WHERE id = 1; END;`,
];

/**
 * Sensors and their MQTT credential hashes in the metadata database
 * (DATA_DIR/kansui.db). Reads are served from memory; `refresh()` reloads
 * when the sensors table changed, written by this connection or another
 * (the `kansui` CLI in another process), detected by the `sensors_version`
 * counter at the cost of one tiny query. Writes to other tables never cause
 * a reload. A reload keeps the object of every sensor whose row did not
 * change, so the `/api/sensors` snapshot re-serializes only changed sensors.
 */
export function createSqliteSensorRegistry(db: SqliteDatabase): SensorRegistry {
  migrate(db, 'sensors', METADATA_MIGRATIONS);
  const selectAll = db.prepare('SELECT id, data FROM sensors ORDER BY id');
  const insert = db.prepare(
    'INSERT INTO sensors (id, data, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
  );
  const updateData = db.prepare('UPDATE sensors SET data = ?, updated_at = ? WHERE id = ?');
  const updateHash = db.prepare('UPDATE sensors SET password_hash = ? WHERE id = ?');
  const selectHash = db.prepare('SELECT password_hash AS h FROM sensors WHERE id = ?');
  const selectVersion = db.prepare('SELECT v FROM sensors_version WHERE id = 1').pluck();

  /** Sensors by id, with the row text each was parsed from (to keep unchanged objects on reload). */
  let cache = new Map<string, { sensor: Sensor; data: string }>();
  /** `list()`'s answer, sorted by id; rebuilt after a change. */
  let sorted: Sensor[] | undefined;
  let seenVersion = -1;

  function reload(): void {
    const next = new Map<string, { sensor: Sensor; data: string }>();
    // An unchanged row (same text) keeps its object without being parsed again.
    for (const { id, data } of selectAll.all() as { id: string; data: string }[]) {
      const kept = cache.get(id);
      next.set(id, kept?.data === data ? kept : { sensor: SensorSchema.parse(JSON.parse(data)), data });
    }
    cache = next;
    sorted = undefined;
  }

  function refresh(): boolean {
    const v = selectVersion.get() as number;
    if (v === seenVersion) return false;
    seenVersion = v;
    reload();
    return true;
  }
  refresh();

  /**
   * Run one write and cache its result. When nobody else changed the table
   * since the last look, the write's own bump is taken as seen (no reload for
   * our own writes); otherwise the next refresh() reloads and sees both.
   */
  const write = db.transaction((run: () => void) => {
    const before = selectVersion.get() as number;
    run();
    if (before === seenVersion) seenVersion = selectVersion.get() as number;
  });

  function remember(sensor: Sensor): void {
    cache.set(sensor.id, { sensor, data: JSON.stringify(sensor) });
    sorted = undefined;
  }

  return {
    list() {
      sorted ??= [...cache.values()].map((e) => e.sensor).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return sorted.slice();
    },
    get: (id) => cache.get(id)?.sensor,
    create(sensor, credential) {
      try {
        write(() => insert.run(sensor.id, JSON.stringify(sensor), credential.passwordHash, sensor.createdAt, sensor.updatedAt));
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw createError('conflict', `sensor ${sensor.id} already exists`);
        }
        throw err;
      }
      remember(sensor);
    },
    update(id, patch) {
      refresh();
      const current = cache.get(id)?.sensor;
      if (!current) throw createError('not_found', `unknown sensor ${id}`);
      const next = SensorSchema.parse({ ...current, ...patch, id, createdAt: current.createdAt });
      write(() => updateData.run(JSON.stringify(next), next.updatedAt, id));
      remember(next);
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
