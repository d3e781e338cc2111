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

/**
 * Apply a module's migrations once each. Each module (sensors, users,
 * alerts, …) keeps its own numbered list under its own `name`, so modules
 * can add tables without coordinating one global version number.
 */
export function migrate(db: SqliteDatabase, name: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const current = db.prepare('SELECT version FROM schema_migrations WHERE name = ?');
  // The version is read again inside each write transaction (BEGIN IMMEDIATE: the write lock first), so processes
  // opening a fresh kansui.db at the same moment (the roles of issue 15, or the CLI beside the service) apply each
  // migration once; reading it outside, two of them would both run `CREATE TABLE` and the second would fail its start.
  const step = db.transaction((): boolean => {
    const v = (current.get(name) as { version: number } | undefined)?.version ?? 0;
    if (v >= migrations.length) return false;
    db.exec(migrations[v] as string);
    db.prepare(
      'INSERT INTO schema_migrations (name, version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version',
    ).run(name, v + 1);
    return true;
  });
  // Up to date (every open but the first): no write lock taken.
  if (((current.get(name) as { version: number } | undefined)?.version ?? 0) >= migrations.length) return;
  while (step.immediate()) continue; // one migration per transaction, as before
}
