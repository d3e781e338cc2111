import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, openDatabase, type SqliteDatabase } from './sqlite.ts';

/**
 * Which readings file kansui last used, kept in kansui.db (issue 10 #11).
 * `has_readings` turns on once a reading was stored: from then on, a
 * readings.db that is missing, emptied (`truncate -s 0`), a fresh database or
 * another store's file is a loss to stop for, not a store to recreate.
 */
const MIGRATIONS = [
  `CREATE TABLE readings_store (
     id           INTEGER PRIMARY KEY CHECK (id = 1),
     store_id     TEXT    NOT NULL,
     file         TEXT    NOT NULL,
     has_readings INTEGER NOT NULL DEFAULT 0,
     updated_at   INTEGER NOT NULL
   );`,
];

/** The table inside readings.db that names it; a backup carries it, so a restored backup is recognised. */
const IDENTITY_TABLE = 'store_identity';

/** Thrown at start when readings.db is not the store kansui.db says held readings; the service must not start. */
export class ReadingsStoreMismatchError extends Error {
  override readonly name = 'ReadingsStoreMismatchError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

export interface ReadingsIdentityResult {
  /** first: no record yet; same: the recorded store; adopted: a store nothing was lost from; accepted: a mismatch let through by the override. */
  outcome: 'first' | 'same' | 'adopted' | 'accepted';
  storeId: string;
  file: string;
  /** What was found when it was not the recorded store (for the log). */
  found?: string;
  /** Mark in kansui.db that the store now holds readings (once; cheap to call again). */
  markHasReadings(): void;
}

interface Found {
  description: string;
  storeId?: string;
  hasReadings: boolean;
}

/** Look at the readings file without changing it (a 0-byte file stays 0 bytes, as evidence). */
function inspect(path: string): Found {
  if (!existsSync(path)) return { description: 'the file is missing', hasReadings: false };
  if (statSync(path).size === 0) return { description: 'the file is empty (0 bytes)', hasReadings: false };
  // A corrupt file throws here ("file is not a database"): the start stops, as it always did.
  const db = new Database(path, { fileMustExist: true });
  try {
    const has = (table: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
    const storeId = has(IDENTITY_TABLE) ? (db.prepare(`SELECT store_id AS id FROM ${IDENTITY_TABLE} LIMIT 1`).get() as { id: string } | undefined)?.id : undefined;
    const hasReadings = has('readings') && db.prepare('SELECT 1 FROM readings LIMIT 1').get() !== undefined;
    const description = storeId ? `store ${storeId}` : hasReadings ? 'readings without a store id (written before issue 10 #11)' : 'an empty database without a store id';
    return { description, hasReadings, ...(storeId && { storeId }) };
  } finally {
    db.close();
  }
}

function writeIdentity(dataDir: string, file: string, storeId: string, now: number): void {
  const db = openDatabase(dataDir, file);
  try {
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS ${IDENTITY_TABLE} (store_id TEXT NOT NULL, created_at INTEGER NOT NULL)`);
      db.exec(`DELETE FROM ${IDENTITY_TABLE}`);
      db.prepare(`INSERT INTO ${IDENTITY_TABLE} (store_id, created_at) VALUES (?, ?)`).run(storeId, now);
    })();
  } finally {
    db.close();
  }
}

/**
 * Check, before the SQLite reading store opens, that DATA_DIR/readings.db is
 * the store kansui.db recorded (issue 10 #11: an emptied readings.db used to
 * be recreated silently, /healthz ok, every reading gone). Throws
 * ReadingsStoreMismatchError, naming the file and the way out, when kansui.db
 * says the recorded store held readings and the file is missing, emptied, a
 * fresh database or another store. `acceptNew` (ACCEPT_NEW_READINGS_STORE)
 * lets a deliberately new or replaced store in and records it.
 *
 * A restored backup of readings.db carries its store id and is accepted.
 * A store whose readings were written before store ids existed is adopted on
 * first start with this check (kansui.db has no record yet).
 */
export function verifyReadingsStore(options: { metaDb: SqliteDatabase; dataDir: string; file?: string; acceptNew: boolean; now?: () => number }): ReadingsIdentityResult {
  const file = options.file ?? 'readings.db';
  const path = join(options.dataDir, file);
  const now = options.now ?? Date.now;
  const meta = options.metaDb;
  migrate(meta, 'readings-identity', MIGRATIONS);
  // One decision at a time across processes (issue 15: two ingest workers starting together on a fresh DATA_DIR would
  // each name readings.db differently, and the next start would refuse a mismatch): kansui.db's write lock, held from
  // reading the record to writing it, is the mutex.
  const decided = meta.transaction(() => decide(meta, path, options)).immediate();
  const { outcome, storeId, found } = decided;
  let hasReadings = decided.hasReadings;
  const setHasReadings = meta.prepare('UPDATE readings_store SET has_readings = 1, updated_at = ? WHERE id = 1 AND store_id = ?');
  return {
    outcome,
    storeId,
    file: path,
    ...(outcome !== 'same' && outcome !== 'first' && { found: found.description }),
    markHasReadings() {
      if (hasReadings) return;
      hasReadings = true;
      setHasReadings.run(now(), storeId);
    },
  };
}

function decide(meta: SqliteDatabase, path: string, options: { dataDir: string; file?: string; acceptNew: boolean; now?: () => number }) {
  const file = options.file ?? 'readings.db';
  const now = options.now ?? Date.now;
  const recorded = meta.prepare('SELECT store_id AS storeId, has_readings AS hasReadings FROM readings_store WHERE id = 1').get() as
    | { storeId: string; hasReadings: number }
    | undefined;
  const found = inspect(path);

  let outcome: ReadingsIdentityResult['outcome'];
  if (recorded && found.storeId === recorded.storeId) outcome = 'same';
  else if (!recorded) outcome = 'first';
  else if (!recorded.hasReadings) outcome = 'adopted';
  else if (options.acceptNew) outcome = 'accepted';
  else {
    throw new ReadingsStoreMismatchError(
      `${path} is not the readings store kansui last used: kansui.db records store ${recorded.storeId}, which held readings, and ${found.description}. ` +
        `Starting would silently lose every stored reading. Stop here; restore ${file} from a backup (docs/operations.md, "Backup of the data directory"), ` +
        'or, if this store is meant to be new or replaced, start once with ACCEPT_NEW_READINGS_STORE=1.',
      path,
    );
  }

  const storeId = found.storeId ?? randomUUID();
  if (!found.storeId) writeIdentity(options.dataDir, file, storeId, now());
  const hasReadings = outcome === 'same' ? recorded!.hasReadings === 1 || found.hasReadings : found.hasReadings;
  meta
    .prepare(
      `INSERT INTO readings_store (id, store_id, file, has_readings, updated_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET store_id = excluded.store_id, file = excluded.file, has_readings = excluded.has_readings, updated_at = excluded.updated_at`,
    )
    .run(storeId, file, hasReadings ? 1 : 0, now());
  return { outcome, storeId, found, hasReadings };
}
