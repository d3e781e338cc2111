import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * Open (creating if needed) a SQLite file in `dataDir` in WAL mode, so the
 * CLI and the service can use the same files at once: readers never block
 * the writer, and a second writer waits up to `busy_timeout` instead of failing.
 * `synchronous = FULL` makes each commit durable across power loss, which
 * is what acknowledging a QoS 1 reading promises; group commit keeps that cheap.
 */
export function openDatabase(dataDir: string, file: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, file));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Apply numbered migrations once each, recorded in `user_version`. */
export function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
