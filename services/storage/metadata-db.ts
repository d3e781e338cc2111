import { openDatabase, type SqliteDatabase } from './sqlite.ts';

/** The metadata database (sensors, credentials, users, alerts): DATA_DIR/kansui.db, shared with the CLI. */
export function openMetadataDatabase(dataDir: string): SqliteDatabase {
  return openDatabase(dataDir, 'kansui.db');
}
