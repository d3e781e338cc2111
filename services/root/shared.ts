import { createAdaptorServer, type ServerType } from '@hono/node-server';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { createRateLimitedLog, type Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { openMetadataDatabase } from '../storage/metadata-db.ts';
import { ReadingsStoreMismatchError, verifyReadingsStore, type ReadingsIdentityResult } from '../storage/readings-identity.ts';
import { createSqliteSensorRegistry } from '../storage/sqlite-sensor-registry.ts';
import type { SqliteDatabase } from '../storage/sqlite.ts';
import { connectBus, type Bus, type BusOptions } from '../bus/mqtt-bus.ts';
import { defaultInstance, makeOrigin, type OriginKind } from '../bus/bus-events.ts';
import { createReadingStore } from './reading-store.ts';
import type { ExternalSubscriberOptions } from '../broker/external-subscriber.ts';

/** What every role is started with besides its config (tests and the demo pass their own). */
export interface RootOptions {
  logger?: Logger;
  now?: () => number;
  /** Replace the store adapter (tests). */
  store?: ReadingStore;
  /**
   * Called when the process can no longer do its job and should be restarted by its
   * supervisor (the readings writer thread keeps dying, issue 10 #14); already
   * logged at fatal. services/main.ts exits non-zero; tests observe it.
   */
  onFatal?: (err: Error) => void;
}

export interface State {
  db: SqliteDatabase;
  registry: SensorRegistry;
  store: ReadingStore;
  /** Set when this process writes readings to a SQLite store (issue 10 #11). */
  readingsIdentity: ReadingsIdentityResult | undefined;
}

/**
 * kansui.db (registry and the other metadata) and the readings store. `writes`:
 * this process stores readings (all, ingest), so an emptied or replaced
 * readings.db stops its start (issue 10 #11) and a dying writer thread is fatal
 * (issue 10 #14).
 */
export async function openState(config: Config, options: RootOptions, deps: { logger: Logger; metrics: Metrics; writes: boolean }): Promise<State> {
  const { logger, metrics } = deps;
  const now = options.now ?? Date.now;
  const db = openMetadataDatabase(config.DATA_DIR);
  const registry = createSqliteSensorRegistry(db);
  let readingsIdentity: ReadingsIdentityResult | undefined;
  if (deps.writes && !options.store && config.STORE === 'sqlite') {
    try {
      readingsIdentity = verifyReadingsStore({ metaDb: db, dataDir: config.DATA_DIR, acceptNew: config.ACCEPT_NEW_READINGS_STORE, now });
    } catch (err) {
      if (err instanceof ReadingsStoreMismatchError) logger.fatal({ file: err.file }, err.message);
      db.close();
      throw err;
    }
    if (readingsIdentity.outcome === 'accepted') {
      logger.warn({ file: readingsIdentity.file, store_id: readingsIdentity.storeId, found: readingsIdentity.found }, 'started with a new readings store (ACCEPT_NEW_READINGS_STORE); the readings of the store kansui.db recorded are not in it. Unset the variable now');
    }
  }
  const store = options.store ?? (await createReadingStore(config, { logger }));
  // Issue 10 #14: a dead writer thread used to withhold every PUBACK with the process still up. Respawned and counted; a crash loop is fatal.
  store.watch?.((e) => {
    if (e.type === 'writer-restarted') {
      metrics.writerRestarts.inc();
      logger.error({ exit_code: e.exitCode, restarts_in_window: e.restartsInWindow, resent_batches: e.resent }, 'readings writer thread died; started a new one and re-sent its unanswered batches');
    } else {
      logger.fatal(
        { exit_code: e.exitCode, restarts_in_window: e.restartsInWindow, window_s: e.windowS, err: e.error },
        'readings writer thread keeps dying (SQLITE_WRITER_MAX_RESTARTS); no reading can be stored, so kansui exits for its supervisor to restart it',
      );
      options.onFatal?.(e.error);
    }
  });
  return { db, registry, store, readingsIdentity };
}

/** The ingest's events into /metrics and the log: what this process accepted, refused and wrote. */
export function watchIngest(ingest: Ingest, deps: { metrics: Metrics; logger: Logger; readingsIdentity: ReadingsIdentityResult | undefined }): void {
  const { metrics, logger } = deps;
  const logRejected = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  ingest.on('rejected', (reason, detail, sensorId) => {
    metrics.rejected.inc({ reason });
    logRejected(`${reason}:${sensorId ?? '?'}`, 'reading rejected', { reason, detail, sensor_id: sensorId });
  });
  ingest.on('write', ({ count, durationMs, duplicates }) => {
    if (count > duplicates) deps.readingsIdentity?.markHasReadings();
    metrics.accepted.inc(count - duplicates);
    if (duplicates) metrics.duplicates.inc(duplicates);
    metrics.writeLatency.observe(durationMs / 1000);
  });
  ingest.on('write-error', (err, count) => {
    metrics.writeErrors.inc();
    logger.error({ err, count }, 'store write failed; readings not acknowledged');
  });
}

/** The MQTT side's events (broker, subscriber, network servers, bus) into /metrics and the log. */
export function createMqttEventLog(deps: { metrics: Metrics; logger: Logger }): (event: string, detail: Record<string, unknown>) => void {
  const { metrics, logger } = deps;
  // Refused MQTT connections (issue 10): counted by reason, logged at most 10 a minute per reason.
  const logRefused = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  const logBus = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  return (event, detail) => {
    if (event === 'connection-refused') {
      metrics.mqttRefused.inc({ reason: String(detail.reason) });
      return logRefused(`mqtt-refused:${String(detail.reason)}`, 'mqtt connection refused', { event, ...detail });
    }
    if (event.startsWith('bus-') && event !== 'bus-connected') return logBus(event, 'bus', { event, ...detail });
    const level = event === 'not-connected-yet' || event === 'store-failed' || event === 'subscribe-failed' ? 'warn' : 'debug';
    logger[level]({ event, ...detail }, 'mqtt');
  };
}

/** This role's connection to the bus (issue 15): the external broker, the ingest's login, a new origin each start. */
export function connectRoleBus(
  config: Config,
  kind: OriginKind,
  deps: Pick<BusOptions, 'consume' | 'onMessage' | 'onEvent'> & { now: () => number; clean: boolean },
): Promise<Bus> {
  if (!config.MQTT_URL) throw new Error(`KANSUI_ROLE=${config.KANSUI_ROLE} needs MQTT_URL`); // loadConfig refuses this already
  const instance = config.KANSUI_INSTANCE ?? defaultInstance();
  return connectBus({
    url: config.MQTT_URL,
    ...(config.MQTT_USERNAME !== undefined && { username: config.MQTT_USERNAME }),
    ...(config.MQTT_PASSWORD !== undefined && { password: config.MQTT_PASSWORD }),
    // The core's session is kept across restarts (fixed id); the others are new each start.
    clientId: deps.clean ? `kansui-bus-${makeOrigin(kind, instance, deps.now())}` : `kansui-bus-${kind}${config.KANSUI_INSTANCE ? `-${config.KANSUI_INSTANCE}` : ''}`,
    clean: deps.clean,
    prefix: config.EVENTS_TOPIC_PREFIX,
    origin: makeOrigin(kind, instance, deps.now()),
    kind,
    ...(deps.consume && { consume: deps.consume }),
    ...(deps.onMessage && { onMessage: deps.onMessage }),
    ...(deps.onEvent && { onEvent: deps.onEvent }),
  });
}

/** Serve `fetch` on HTTP_HOST:HTTP_PORT; resolves with the server and the bound port. */
export async function listenHttp(fetch: (req: Request) => Response | Promise<Response>, config: Config): Promise<{ server: ServerType; port: number; close: () => Promise<void> }> {
  // serve() would listen with node's default backlog (511): listen here with HTTP_BACKLOG instead.
  const server: ServerType = createAdaptorServer({ fetch, hostname: config.HTTP_HOST });
  server.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST, backlog: config.HTTP_BACKLOG });
  await once(server, 'listening'); // rejects on 'error' (a port in use)
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: async () => {
      (server as import('node:http').Server).closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * The external-broker subscriber's options from config (the single process with MQTT_URL, and every ingest worker):
 * several workers split the readings through a shared subscription (MQTT_SHARE_GROUP, issue 15).
 */
export function subscriberOptions(config: Config, ingest: Ingest, onEvent: (event: string, detail: Record<string, unknown>) => void): ExternalSubscriberOptions & { shareGroup?: string } {
  if (!config.MQTT_URL) throw new Error('the external subscriber needs MQTT_URL');
  return {
    url: config.MQTT_URL,
    clientId: config.MQTT_CLIENT_ID,
    ingest,
    onEvent,
    ...(config.MQTT_USERNAME !== undefined && { username: config.MQTT_USERNAME }),
    ...(config.MQTT_PASSWORD !== undefined && { password: config.MQTT_PASSWORD }),
    ...(config.MQTT_SHARE_GROUP !== undefined && { shareGroup: config.MQTT_SHARE_GROUP }),
  };
}
