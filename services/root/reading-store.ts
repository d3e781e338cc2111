import type { Logger } from 'pino';
import type { ReadingStore } from '../core/ports.ts';
import { createInfluxReadingStore, type InfluxStoreEvent } from '../storage/influx-reading-store.ts';
import { createSqliteReadingStore, DEFAULT_WRITER_RESTARTS } from '../storage/sqlite-reading-store.ts';

export interface StoreConfig {
  STORE: 'sqlite' | 'influx';
  DATA_DIR: string;
  SQLITE_WRITER_MAX_RESTARTS?: number;
  SQLITE_WRITER_RESTART_WINDOW_S?: number;
  INFLUX_URL?: string | undefined;
  INFLUX_DATABASE?: string;
  INFLUX_TOKEN?: string | undefined;
  INFLUX_USERNAME?: string | undefined;
  INFLUX_PASSWORD?: string | undefined;
  INFLUX_TIMEOUT_MS?: number;
  INFLUX_BATCH_LINES?: number;
}

export interface StoreDeps {
  logger?: Logger;
}

/** How each InfluxDB store event is logged: the operator must see outages, recoveries and refused lines. */
function logInfluxEvent(logger: Logger | undefined, e: InfluxStoreEvent): void {
  if (!logger) return;
  switch (e.type) {
    case 'connected':
      logger.info({ influx_url: e.url, version: e.version, spooled: e.spooled }, 'InfluxDB answers; writing to it directly');
      break;
    case 'unreachable':
      logger.error(
        { influx_url: e.url, kind: e.kind, err: e.error, spooled: e.spooled },
        'InfluxDB is not accepting writes; readings are spooled in DATA_DIR/influx-spool.db and replayed when it answers',
      );
      break;
    case 'database-missing':
      logger.error(
        { database: e.database, err: e.error },
        'InfluxDB has no such database (1.x: CREATE DATABASE; 2.x: bucket + DBRP mapping, see docs/influxdb.md); readings are spooled until it exists',
      );
      break;
    case 'quarantined':
      logger.warn({ line: e.line, err: e.error }, 'InfluxDB refused a line; kept in the quarantine table of influx-spool.db');
      break;
    case 'drained':
      logger.info('InfluxDB spool drained');
      break;
    case 'query-failed':
      logger.warn({ what: e.what, err: e.error }, 'InfluxDB query failed');
      break;
  }
}

/** Build the configured ReadingStore adapter. */
export async function createReadingStore(config: StoreConfig, deps: StoreDeps = {}): Promise<ReadingStore> {
  switch (config.STORE) {
    case 'sqlite':
      return createSqliteReadingStore({
        dataDir: config.DATA_DIR,
        writerRestarts: {
          maxRestarts: config.SQLITE_WRITER_MAX_RESTARTS ?? DEFAULT_WRITER_RESTARTS.maxRestarts,
          windowMs: (config.SQLITE_WRITER_RESTART_WINDOW_S ?? DEFAULT_WRITER_RESTARTS.windowMs / 1000) * 1000,
        },
      });
    case 'influx': {
      // loadConfig already refuses STORE=influx without INFLUX_URL; this guards direct callers.
      if (!config.INFLUX_URL) throw new Error('INFLUX_URL is required when STORE=influx');
      return createInfluxReadingStore({
        dataDir: config.DATA_DIR,
        url: config.INFLUX_URL,
        database: config.INFLUX_DATABASE ?? 'kansui',
        ...(config.INFLUX_TOKEN !== undefined && { token: config.INFLUX_TOKEN }),
        ...(config.INFLUX_USERNAME !== undefined && { username: config.INFLUX_USERNAME }),
        ...(config.INFLUX_PASSWORD !== undefined && { password: config.INFLUX_PASSWORD }),
        ...(config.INFLUX_TIMEOUT_MS !== undefined && { writeTimeoutMs: config.INFLUX_TIMEOUT_MS }),
        ...(config.INFLUX_BATCH_LINES !== undefined && { batchLines: config.INFLUX_BATCH_LINES }),
        onEvent: (e) => logInfluxEvent(deps.logger, e),
      });
    }
  }
}
