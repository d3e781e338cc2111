import { serve, type ServerType } from '@hono/node-server';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import type { AuthEnv } from './auth/middleware.ts';
import type { ReadingStore, SensorRegistry } from './core/ports.ts';
import { DEFAULT_TIME_ZONE, formatIso } from './core/time.ts';
import { createApi } from './api/create-api.ts';
import { bearerAuthenticator } from './auth/middleware.ts';
import { createUserStore, type UserStore } from './auth/user-store.ts';
import { createEventHub, type EventHub } from './api/event-hub.ts';
import { createOpenDataRoutes } from './api/open-data-routes.ts';
import { createSensorsSnapshot } from './api/sensors-snapshot.ts';
import type { Alerting, AlertingOptions } from './alerting/create-alerting.ts';
import { createAlertingFromConfig } from './alerting/from-config.ts';
import { loadOrCreateVapidKeys, VAPID_FILE } from './alerting/vapid-file.ts';
import { readPublicLinksFile } from './api/public-links-file.ts';
import { createAlertMetrics } from './alerting/alert-metrics.ts';
import { alertRoutes } from './alerting/routes.ts';
import { createOutboundGuard, type HostLookup } from './alerting/outbound.ts';
import type { Alert, AlertEventType } from './core/alerts/alert.ts';
import { createLineResidents, type LineResidents } from './line/create-line-residents.ts';
import type { LineRetry } from './line/line-pusher.ts';
import { createSqliteLineSubscriptions } from './storage/sqlite-line-subscriptions.ts';
import { createSqliteClosures } from './storage/sqlite-closures.ts';
import { createClosures, type Closures } from './closures/create-closures.ts';
import { createBoard } from './board/create-board.ts';
import { reportRoutes } from './board/report-routes.ts';
import { createPlanIndicators } from './plan/create-plan.ts';
import { createNotifications } from './notifications/create-notifications.ts';
import { createSqliteUserNotifications } from './storage/sqlite-user-notifications.ts';
import { createSqlitePlanCounters } from './storage/sqlite-plan-counters.ts';
import type { AuditSink } from './core/audit.ts';
import { clientAddress } from './api/client-info.ts';
import { createEmbeddedBroker, type EmbeddedBroker } from './broker/create-broker.ts';
import { connectExternalSubscriber, type ExternalSubscriber } from './broker/external-subscriber.ts';
import { readPublicUrl, type Config } from './config.ts';
import { createConsole, type KansuiConsole } from './console/create-console.ts';
import { createMosquittoProvisioning } from './broker/mosquitto-provisioning.ts';
import { combineSinks, embeddedBrokerSink } from './sensors/credential-sink.ts';
import { createIngest, type Ingest } from './ingest/create-ingest.ts';
import { createIntegrations, type Integrations } from './integrations/create-integrations.ts';
import { createStatusTracker } from './ingest/status-tracker.ts';
import { createLogger, createRateLimitedLog, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createReadingStore } from './storage/create-store.ts';
import { openMetadataDatabase } from './storage/metadata-db.ts';
import { ReadingsStoreMismatchError, verifyReadingsStore, type ReadingsIdentityResult } from './storage/readings-identity.ts';
import { createSqliteSensorRegistry } from './storage/sqlite-sensor-registry.ts';
import { createSqliteAudit } from './storage/sqlite-audit.ts';
import { createAuditLog } from './audit/audit-log.ts';
import { createHttpPolicy } from './api/http-policy.ts';
import { createSqliteSessions, createSqliteUsers } from './storage/sqlite-accounts.ts';
import { createSqliteCalibrations } from './storage/sqlite-calibrations.ts';
import { createSqliteAlerts, openAlertsConnection } from './storage/sqlite-alerts.ts';
import { createSqliteRecipients } from './storage/sqlite-recipients.ts';
import type { SqliteDatabase } from './storage/sqlite.ts';
import { computeTrend, createTrendWindow } from './core/trend.ts';
import { trendFields } from './api/geojson.ts';
import type { Sensor } from './core/sensor.ts';

export interface Kansui {
  config: Config;
  /** Bound ports (differ from config when it asked for 0). */
  httpPort: number;
  mqttPort: number | undefined;
  app: Hono<AuthEnv>;
  users: UserStore;
  db: SqliteDatabase;
  registry: SensorRegistry;
  store: ReadingStore;
  ingest: Ingest;
  hub: EventHub;
  metrics: Metrics;
  logger: Logger;
  broker: EmbeddedBroker | undefined;
  external: ExternalSubscriber | undefined;
  /** Sessions, audit log, calibrations, sensor health (issue 5). */
  console: KansuiConsole;
  /** Alert runner, store and channels (issue 4). */
  alerting: Alerting;
  /** Residents on LINE (issue 14), when LINE_CHANNEL_SECRET and LINE_CHANNEL_TOKEN are set. */
  line: LineResidents | undefined;
  /** Road closures set by staff (issue 13). */
  closures: Closures;
  /** LoRaWAN network servers: TTN / ChirpStack over MQTT and webhooks (issue 11). */
  integrations: Integrations;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  now?: () => number;
  /** How often silence is checked for `offline` (ms). */
  sweepMs?: number;
  /** Replace the store adapter (tests). */
  store?: ReadingStore;
  /**
   * Called when kansui can no longer do its job and should be restarted by its
   * supervisor (the readings writer thread keeps dying, issue 10 #14); already
   * logged at fatal. services/main.ts exits non-zero; tests observe it.
   */
  onFatal?: (err: Error) => void;
  /** Alerting overrides (tests: short retry backoff). */
  alerting?: Partial<AlertingOptions>;
  /** Name resolution for the alert channels' outbound guard (tests: make a name resolve to loopback). */
  outboundLookup?: HostLookup;
  /** Residents' LINE multicast retries (tests: short backoff). */
  lineRetry?: Partial<LineRetry>;
}

/**
 * Wire every adapter from a validated config and start listening. The only
 * place that knows all the parts; `services/main.ts` calls it with the
 * environment, tests and the demo call it with their own config.
 */
export async function startKansui(config: Config, options: StartOptions = {}): Promise<Kansui> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const now = options.now ?? Date.now;
  const timeZone = DEFAULT_TIME_ZONE;
  // Read before anything opens: a bad DATA_DIR/public-links.json stops the start cleanly (issue 12).
  const publicLinks = config.PUBLIC_LINKS ?? readPublicLinksFile(config.DATA_DIR);
  const metrics = createMetrics();

  const db = openMetadataDatabase(config.DATA_DIR);
  const registry = createSqliteSensorRegistry(db);
  const users = createUserStore(createSqliteUsers(db), now);
  // Issue 10 #11: an emptied or replaced readings.db stops the start instead of being recreated with every reading gone.
  let readingsIdentity: ReadingsIdentityResult | undefined;
  if (!options.store && config.STORE === 'sqlite') {
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
  const ingest = createIngest({ store, registry, now });
  await ingest.start();

  const hub = createEventHub();
  // The app's audit log (issue 16: created here, not by the console); modules record detailed entries in words through `audit` (issue 13).
  const auditLog = createAuditLog(createSqliteAudit(db), now);
  const audit: AuditSink = (request, record) => auditLog.recordFor(request, record);
  const closures = createClosures({ repo: createSqliteClosures(db), registry, publish: (event, data) => hub.publish(event, data), audit, addressOf: (c) => clientAddress(c, config.TRUST_PROXY), timeZone, now });
  const tracker = createStatusTracker({ registry, latest: ingest.latest, now });
  tracker.sweep(); // seed with current statuses so only changes are announced
  // Issue 12: one trend for the map, the API and pushes (services/core/trend.ts), from the readings kept in memory since start.
  const trendWindowMs = config.TREND_WINDOW_MIN * 60_000;
  const trends = createTrendWindow();
  const trendOf = (sensor: Sensor) => computeTrend(trends.get(sensor.id), { thresholds: sensor.thresholds, intervalS: sensor.intervalS, windowMs: trendWindowMs });

  const alertMetrics = createAlertMetrics(metrics.registry);
  // Connections an alert channel was refused by the outbound policy (issue 10): counted, logged at most 10 a minute per host.
  const logOutboundRefused = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  /** Residents on LINE (issue 14), created below once alerting exists; its hook is called for every alert event. */
  let line: LineResidents | undefined;
  // Issue 12: notifications out of the box. Keys from the environment win; else DATA_DIR/vapid.json, generated once.
  let alertingConfig: Config = config;
  if (!config.VAPID_PUBLIC_KEY && config.VAPID_GENERATE) {
    const { keys, created } = await loadOrCreateVapidKeys(config.DATA_DIR);
    if (created) logger.info({ file: `${config.DATA_DIR}/${VAPID_FILE}` }, 'generated a Web Push (VAPID) key pair; back it up with kansui.db');
    alertingConfig = { ...config, VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey };
  }
  // Alerts on their own connection (synchronous = NORMAL, see openAlertsConnection); the registry does not reload on their commits.
  const alertsDb = openAlertsConnection(db);
  const { alerting, vapidPublicKey, targetPolicy } = await createAlertingFromConfig(alertingConfig, {
    store: createSqliteAlerts(alertsDb),
    recipientStore: createSqliteRecipients(alertsDb),
    registry,
    trendOf,
    latest: ingest.latest,
    publish: (event, data) => hub.publish(event, data),
    timeZone,
    now,
    sweepMs: options.sweepMs ?? 5_000,
    onError: (err, context) => logger.error({ err, context }, 'alerting failed'),
    onSpike: (sensorId, outcome, levelCm) => logger.info({ sensor_id: sensorId, outcome, level_cm: levelCm }, 'implausible jump'),
    onEvent: (event: AlertEventType, alert: Alert) => {
      alertMetrics.onEvent(event, alert);
      line?.onAlertEvent(event, alert);
    },
    onDelivery: alertMetrics.onDelivery,
    // A staff member's Web Push subscription the push service says is gone: their preferences forget it (issue 13).
    onUserPushGone: (r) => notifications.forgetPush((r.label ?? '').replace(/^user:/, '')),
    onOutboundRefused: (r) => {
      alertMetrics.onOutboundRefused(r);
      logOutboundRefused(`outbound:${r.host}:${r.port}`, 'alert delivery refused by the outbound policy (ALERT_ALLOW_PRIVATE_TARGETS)', { channel: r.channel, host: r.host, port: r.port, address_class: r.class });
    },
    ...(options.outboundLookup && { lookup: options.outboundLookup }),
    ...(options.alerting && { overrides: options.alerting }),
  });
  alertMetrics.watchChannels(alerting.channels);

  // Residents on LINE (issue 14): state behind its port on the shared metadata connection; HTTP through the same outbound policy as the channels.
  if (config.LINE_CHANNEL_SECRET && config.LINE_CHANNEL_TOKEN) {
    const publicUrl = readPublicUrl(config);
    line = createLineResidents({
      token: config.LINE_CHANNEL_TOKEN,
      channelSecret: config.LINE_CHANNEL_SECRET,
      apiBase: config.LINE_API_BASE,
      outbound: createOutboundGuard({
        rules: config.ALERT_ALLOW_PRIVATE_TARGETS,
        ...(options.outboundLookup && { lookup: options.outboundLookup }),
        onRefused: (r) => {
          alertMetrics.onOutboundRefused(r);
          logOutboundRefused(`outbound:${r.host}:${r.port}`, 'alert delivery refused by the outbound policy (ALERT_ALLOW_PRIVATE_TARGETS)', { channel: r.channel, host: r.host, port: r.port, address_class: r.class });
        },
      }),
      repo: createSqliteLineSubscriptions(db),
      registry,
      trendOf,
      statusOf: (id) => tracker.current(id),
      settingsOf: (id) => alerting.settingsOf(id),
      timeZone,
      ...(publicUrl && { baseUrl: publicUrl }),
      locationRadiusM: config.LINE_LOCATION_RADIUS_M,
      areas: config.LINE_AREAS,
      quotaWarnShare: config.LINE_QUOTA_WARN_SHARE,
      quotaShortMinLevel: config.LINE_QUOTA_SHORT_MIN_LEVEL,
      quotaPollMs: config.LINE_QUOTA_POLL_S * 1000,
      ...(options.lineRetry && { retry: options.lineRetry }),
      log: (e) => {
        alerting.store.logDelivery(e);
        alertMetrics.onDelivery(e);
      },
      metricsRegistry: metrics.registry,
      onQuotaWarning: (q) => {
        logger.warn({ limit: q.limit, used: q.used, share: config.LINE_QUOTA_WARN_SHARE, short_min_level: config.LINE_QUOTA_SHORT_MIN_LEVEL }, 'LINE message quota nearly used: residents get only the chosen level now (LINE_QUOTA_SHORT_MIN_LEVEL)');
        hub.publish('line_quota', { limit: q.limit ?? null, used: q.used, share: config.LINE_QUOTA_WARN_SHARE, short_min_level: config.LINE_QUOTA_SHORT_MIN_LEVEL });
      },
      onError: (err, context) => logger.error({ err, context }, 'line residents failed'),
      now,
      audit,
    });
  }
  alertMetrics.watchSubscriptions(alerting.residentCount);

  const logRejected = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  ingest.on('rejected', (reason, detail, sensorId) => {
    metrics.rejected.inc({ reason });
    logRejected(`${reason}:${sensorId ?? '?'}`, 'reading rejected', { reason, detail, sensor_id: sensorId });
  });
  ingest.on('write', ({ count, durationMs, duplicates }) => {
    if (count > duplicates) readingsIdentity?.markHasReadings();
    metrics.accepted.inc(count - duplicates);
    if (duplicates) metrics.duplicates.inc(duplicates);
    metrics.writeLatency.observe(durationMs / 1000);
  });
  ingest.on('write-error', (err, count) => {
    metrics.writeErrors.inc();
    logger.error({ err, count }, 'store write failed; readings not acknowledged');
  });
  // Issue 12: the trend window first, so the live event, the snapshot and the alert engine's pushes all see this reading.
  ingest.on('reading', (reading, sensor) => trends.add(sensor.id, reading, Math.max(trendWindowMs, 2 * sensor.intervalS * 1000)));
  // Issue 12: a new sensor becomes public with its first valid reading (or when a technician says so in the console).
  ingest.on('reading', (_reading, sensor) => {
    if (sensor.commissioning && registry.get(sensor.id)?.commissioning) registry.update(sensor.id, { commissioning: undefined, updatedAt: now() });
  });
  ingest.on('reading', (reading, sensor) => {
    const change = tracker.check(sensor.id);
    const latest = ingest.latest.get(sensor.id);
    hub.publish('reading', {
      sensor_id: sensor.id,
      ts: formatIso(reading.observedAt, timeZone),
      level_cm: reading.levelCm,
      // Status of the sensor now (an out-of-order reading does not change it).
      status: change?.status ?? tracker.current(sensor.id),
      latest: latest === reading,
      // Issue 12: the trend as /api/sensors shows it, so a live map agrees with the API without refetching.
      ...(latest === reading && trendFields(trendOf(sensor))),
      ...(reading.batteryV !== undefined && { battery_v: reading.batteryV }),
      ...(reading.rssiDbm !== undefined && { rssi_dbm: reading.rssiDbm }),
      ...(reading.batteryPct !== undefined && { battery_pct: reading.batteryPct }),
      ...(reading.snrDb !== undefined && { snr_db: reading.snrDb }),
      ...(reading.wetCm !== undefined && { wet_cm: reading.wetCm }),
    });
  });
  ingest.on('reading', (reading, sensor) => {
    alerting.onReading(reading, sensor);
  });
  const sweepTimer = setInterval(() => {
    registry.refresh();
    for (const c of tracker.sweep()) {
      hub.publish('status', { sensor_id: c.sensorId, status: c.status, previous: c.previous ?? null });
    }
  }, options.sweepMs ?? 5_000);
  sweepTimer.unref();

  let broker: EmbeddedBroker | undefined;
  let external: ExternalSubscriber | undefined;
  let mqttPort: number | undefined;
  // Refused MQTT connections (issue 10): counted by reason, logged at most 10 a minute per reason.
  const logRefused = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  const onBrokerEvent = (event: string, detail: Record<string, unknown>) => {
    if (event === 'connection-refused') {
      metrics.mqttRefused.inc({ reason: String(detail.reason) });
      return logRefused(`mqtt-refused:${String(detail.reason)}`, 'mqtt connection refused', { event, ...detail });
    }
    const level = event === 'not-connected-yet' || event === 'store-failed' || event === 'subscribe-failed' ? 'warn' : 'debug';
    logger[level]({ event, ...detail }, 'mqtt');
  };
  // Sensor logins in an external Mosquitto (issue 15): password file + SIGHUP, or its dynamic-security plugin.
  const mosquitto = createMosquittoProvisioning(config);
  // Not fatal: with the broker down the ingest keeps retrying too, and an existing ingest login still works.
  await mosquitto?.prepare().catch((err: unknown) => logger.warn({ err }, 'mosquitto: could not prepare the ingest login (dynamic security)'));
  if (config.MQTT_URL) {
    external = await connectExternalSubscriber({
      url: config.MQTT_URL,
      clientId: config.MQTT_CLIENT_ID,
      ingest,
      onEvent: onBrokerEvent,
      ...(config.MQTT_USERNAME !== undefined && { username: config.MQTT_USERNAME }),
      ...(config.MQTT_PASSWORD !== undefined && { password: config.MQTT_PASSWORD }),
    });
  } else {
    broker = await createEmbeddedBroker({
      registry,
      ingest,
      now,
      onEvent: onBrokerEvent,
      limits: {
        sensorRatePerMin: config.MQTT_SENSOR_RATE_PER_MIN,
        sensorBurst: config.MQTT_SENSOR_BURST,
        maxConnectionsPerSensor: config.MQTT_MAX_CONNECTIONS_PER_SENSOR,
        connectTimeoutS: config.MQTT_CONNECT_TIMEOUT_S,
        maxPendingConnections: config.MQTT_MAX_PENDING_CONNECTIONS,
      },
    });
    mqttPort = await broker.listen(config.MQTT_PORT, config.MQTT_HOST);
  }

  // LoRaWAN network servers (issue 11): webhooks always mounted (token-guarded), MQTT when configured.
  const logUplink = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  const integrations = await createIntegrations(config, {
    registry,
    ingest,
    metricsRegistry: metrics.registry,
    now,
    formatTime: (ms) => formatIso(ms, timeZone),
    notAudited: (request) => auditLog.notAudited(request),
    onEvent: onBrokerEvent,
    onUplink: (source, r) => {
      if (r.outcome === 'unknown_device' || r.outcome === 'invalid') logUplink(`uplink:${source}:${r.outcome}`, 'uplink not taken', { source, outcome: r.outcome, detail: r.detail });
      // The device says it is not measuring the water: a sensor-health alert for staff, never a level.
      const sensor = r.sensorId !== undefined ? registry.get(r.sensorId) : undefined;
      if (sensor && (r.reason === 'tilt' || r.reason === 'no_target')) alerting.onFault(sensor, r.reason);
    },
  });

  metrics.setConnectedSensors(() => broker?.connectedSensors() ?? (external?.connected() ? 1 : 0));
  metrics.setStoreStats(() => store.stats?.());

  const sensorConsole = createConsole({
    repos: { sessions: createSqliteSessions(db), calibrations: createSqliteCalibrations(db) },
    audit: auditLog,
    users,
    registry,
    store,
    ingest,
    latest: ingest.latest,
    sink: combineSinks(
      embeddedBrokerSink(broker),
      ...(mosquitto ? [mosquitto.sink] : []),
    ),
    mqtt: { port: mqttPort, external: broker === undefined },
    connectedSensorIds: broker ? () => broker.connectedSensorIds() : undefined,
    trustProxy: config.TRUST_PROXY,
    timeZone,
    now,
    metricsRegistry: metrics.registry,
    logger,
    signIn: {
      maxFailures: config.SIGNIN_MAX_FAILURES,
      maxFailuresPerAddress: config.SIGNIN_MAX_FAILURES_PER_ADDRESS,
      userSlowdownAfter: config.SIGNIN_USER_SLOWDOWN_AFTER,
      userSlowIntervalMs: config.SIGNIN_USER_SLOW_INTERVAL_S * 1000,
      maxHashesPerAddress: config.SIGNIN_MAX_HASHES_PER_ADDRESS,
    },
  });

  // The staff situation board (issue 13).
  const board = createBoard({
    registry,
    latest: ingest.latest,
    store,
    activeAlerts: () => alerting.store.active(),
    settingsOf: alerting.settingsOf,
    remindersOf: (id) => alerting.store.events(id).filter((e) => e.type === 'reminded').length,
    closureOf: closures.openFor,
    timeZone,
    now,
  });

  // The action plan's indicators (issue 13): map views per day without cookies or addresses, subscribers per channel.
  const plan = createPlanIndicators({
    repo: createSqlitePlanCounters(db),
    subscribers: () => ({ line: line?.repo.counts().users, webpush: alerting.residentCount() }),
    timeZone,
    now,
    onError: (err) => logger.error({ err }, 'plan indicators failed'),
  });

  // Staff members' own notification preferences (issue 13), applied to the alert runner as recipients.
  const notifications = createNotifications({
    repo: createSqliteUserNotifications(db),
    registry,
    userOf: (username) => users.get(username),
    users: () => users.list(),
    apply: (username, list) => alerting.setUserRecipients(username, list),
    channels: { email: alerting.dispatcher.has('email'), line: alerting.dispatcher.has('line'), webpush: alerting.dispatcher.has('webpush') },
    pushPolicy: targetPolicy,
    audit,
    addressOf: (c) => clientAddress(c, config.TRUST_PROXY),
    now,
  });

  // One cached sensors body for both /api/sensors and the open-data GeoJSON.
  const snapshot = createSensorsSnapshot({ registry, latest: ingest.latest, timeZone, now, closures, trendOf });
  const app = createApi({
    snapshot,
    trendOf,
    registry,
    store,
    latest: ingest.latest,
    hub,
    metrics,
    timeZone,
    now,
    log: (err) => logger.error({ err }, 'request failed'),
    authenticators: [bearerAuthenticator((token) => users.verifyToken(token)), sensorConsole.authenticator],
    // Map views for the plan indicators are counted where the public map opens the live stream (issue 13).
    // App-wide HTTP policy (issue 16): security headers, CSRF and the audit of writes, before every route module.
    middleware: [...createHttpPolicy({ trustProxy: config.TRUST_PROXY, tileUrl: config.MAP_TILE_URL, embedOrigins: config.EMBED_ORIGINS, auditWrites: auditLog.auditWrites }), plan.countViews],
    closureOf: closures.openFor,
    routes: [...(line ? [line.routes] : []), integrations.routes, closures.routes, board.routes, plan.routes, notifications.routes, reportRoutes({ registry, store, alertsIn: (from, to) => alerting.store.list({ from, to, limit: 10_000 }), closuresIn: closures.overlapping, timeZone }), createOpenDataRoutes({ registry, store, snapshot, timeZone, now }), sensorConsole.mount, alertRoutes({ alerting, registry, timeZone, now, clientInfo: { trustProxy: config.TRUST_PROXY, publicUrl: readPublicUrl(config) }, targetPolicy, pushMaxSubscriptions: config.PUSH_MAX_SUBSCRIPTIONS, onPushRefused: alertMetrics.onPushRefused, audit, closures, ...(vapidPublicKey && { vapidPublicKey }) })],
    map: { tileUrl: config.MAP_TILE_URL, attribution: config.MAP_ATTRIBUTION, center: config.MAP_CENTER, zoom: config.MAP_ZOOM },
    publicLinks,
    health: async () => ({
      store: await store.healthy().catch(() => false),
      broker: broker ? !broker.aedes.closed : (external?.connected() ?? false),
      http: true,
    }),
  });

  const server: ServerType = serve({ fetch: app.fetch, port: config.HTTP_PORT, hostname: config.HTTP_HOST });
  if (!server.listening) await once(server, 'listening');
  const httpPort = (server.address() as AddressInfo).port;
  logger.info({ http_port: httpPort, mqtt_port: mqttPort, mqtt_url: config.MQTT_URL, store: store.kind, data_dir: config.DATA_DIR }, 'kansui started');

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(sweepTimer);
      // Stop taking readings first, let in-flight ones commit, then close the stores.
      await broker?.close();
      await external?.close();
      await integrations.close();
      await mosquitto?.close();
      await ingest.drain();
      await alerting.close();
      if (alertsDb !== db) alertsDb.close();
      plan.close();
      notifications.close();
      line?.close();
      (server as import('node:http').Server).closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
      db.close();
      logger.info('kansui stopped');
    })();
    return stopping;
  }

  return { config, httpPort, mqttPort, app, db, users, registry, store, ingest, hub, metrics, logger, broker, external, console: sensorConsole, alerting, line, closures, integrations, stop };
}
