import type { Hono } from 'hono';
import type { AuthEnv } from '../auth/middleware.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import { DEFAULT_TIME_ZONE, formatIso } from '../core/time.ts';
import { createApi } from '../api/create-api.ts';
import { bearerAuthenticator } from '../auth/middleware.ts';
import { createUserStore, type UserStore } from '../auth/user-store.ts';
import { createEventHub, type EventHub } from '../api/event-hub.ts';
import { createOpenDataRoutes } from '../api/open-data-routes.ts';
import { createSensorsSnapshot } from '../api/sensors-snapshot.ts';
import type { Alerting, AlertingOptions } from '../alerting/create-alerting.ts';
import { createAlertingFromConfig } from './alerting.ts';
import { loadOrCreateVapidKeys, VAPID_FILE } from '../alerting/vapid-file.ts';
import { readPublicLinksFile } from '../api/public-links-file.ts';
import { createAlertMetrics } from '../alerting/alert-metrics.ts';
import { alertRoutes } from '../alerting/routes.ts';
import { createOutboundGuard, type HostLookup } from '../alerting/outbound.ts';
import type { Alert, AlertEventType } from '../core/alerts/alert.ts';
import { createLineResidents, type LineResidents } from '../line/create-line-residents.ts';
import type { LineRetry } from '../line/line-pusher.ts';
import { createSqliteLineSubscriptions } from '../storage/sqlite-line-subscriptions.ts';
import { createSqliteClosures } from '../storage/sqlite-closures.ts';
import { createClosures, type Closures } from '../closures/create-closures.ts';
import { createBoard } from '../board/create-board.ts';
import { reportRoutes } from '../board/report-routes.ts';
import { createPlanIndicators } from '../plan/create-plan.ts';
import { createNotifications } from '../notifications/create-notifications.ts';
import { createSqliteUserNotifications } from '../storage/sqlite-user-notifications.ts';
import { createSqlitePlanCounters } from '../storage/sqlite-plan-counters.ts';
import type { AuditSink } from '../core/audit.ts';
import { clientAddress } from '../api/client-info.ts';
import { createEmbeddedBroker, type EmbeddedBroker } from '../broker/create-broker.ts';
import { connectExternalSubscriber, type ExternalSubscriber } from '../broker/external-subscriber.ts';
import { readPublicUrl, type Config } from '../config.ts';
import { createConsole, type KansuiConsole } from '../console/create-console.ts';
import { createMosquittoProvisioning } from '../broker/mosquitto-provisioning.ts';
import { combineSinks, embeddedBrokerSink } from '../sensors/credential-sink.ts';
import { createIngest, type Ingest } from '../ingest/create-ingest.ts';
import { createIntegrations, type Integrations } from '../integrations/create-integrations.ts';
import { createStatusTracker, startStatusSweep } from '../ingest/status-tracker.ts';
import { createLogger, createRateLimitedLog, type Logger } from '../logger.ts';
import { createReadingRelay, type ReadingRelay } from '../ingest/reading-relay.ts';
import type { Bus, BusMessage } from '../bus/mqtt-bus.ts';
import { parseBusRejections } from '../bus/bus-events.ts';
import { announceWrites, refuseWrites } from '../api/read-only.ts';
import { connectRoleBus, createMqttEventLog, listenHttp, openState, subscriberOptions, watchIngest, type RootOptions } from './shared.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import { createSqliteAudit } from '../storage/sqlite-audit.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createHttpPolicy } from '../api/http-policy.ts';
import { createSqliteSessions, createSqliteUsers } from '../storage/sqlite-accounts.ts';
import { createSqliteCalibrations } from '../storage/sqlite-calibrations.ts';
import { createSqliteAlerts, openAlertsConnection } from '../storage/sqlite-alerts.ts';
import { createSqliteRecipients } from '../storage/sqlite-recipients.ts';
import type { SqliteDatabase } from '../storage/sqlite.ts';
import { computeTrend, createTrendWindow } from '../core/trend.ts';
import { readingEventData, statusEventData } from '../api/live-events.ts';
import type { Sensor } from '../core/sensor.ts';
import type { Reading, RejectReason } from '../core/reading.ts';

/** The roles that serve the application (every role but `ingest`, see ./ingest.ts). */
export type FullRole = 'all' | 'core' | 'web';

export interface Kansui {
  config: Config;
  /** KANSUI_ROLE this process runs (issue 15). */
  role: FullRole;
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
  /** The bus between the roles (issue 15); undefined in the single process. */
  bus: Bus | undefined;
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

export interface StartOptions extends RootOptions {
  /** How often silence is checked for `offline` (ms). */
  sweepMs?: number;
  /** Alerting overrides (tests: short retry backoff). */
  alerting?: Partial<AlertingOptions>;
  /** Name resolution for the alert channels' outbound guard (tests: make a name resolve to loopback). */
  outboundLookup?: HostLookup;
  /** Residents' LINE multicast retries (tests: short backoff). */
  lineRetry?: Partial<LineRetry>;
}

/**
 * Wire the application from a validated config and start listening: the
 * single process (`all`: broker or subscriber, ingest, everything), the `core`
 * (readings from the bus, the one alert runner, every write; its events go
 * out on the bus) or a `web` process (readings and events from the bus, reads
 * only). `services/main.ts` starts it through `startRole` with the
 * environment; tests and the demo call it with their own config.
 */
export async function startKansui(config: Config, options: StartOptions = {}): Promise<Kansui> {
  const role = config.KANSUI_ROLE;
  if (role === 'ingest') throw new Error('KANSUI_ROLE=ingest is started by startRole (services/root/ingest.ts)');
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const now = options.now ?? Date.now;
  const timeZone = DEFAULT_TIME_ZONE;
  // Read before anything opens: a bad DATA_DIR/public-links.json stops the start cleanly (issue 12).
  const publicLinks = config.PUBLIC_LINKS ?? readPublicLinksFile(config.DATA_DIR);
  const metrics = createMetrics();

  // In the split roles only the ingest writes readings (issue 15); core and web read the same store.
  const { db, registry, store, readingsIdentity } = await openState(config, options, { logger, metrics, writes: role === 'all' });
  const users = createUserStore(createSqliteUsers(db), now);
  // Readings: taken and stored here (all), or stored by an ingest worker and heard on the bus (core, web).
  const relay: ReadingRelay | undefined = role === 'all' ? undefined : createReadingRelay({ store, registry });
  const ingest: Ingest = relay ?? createIngest({ store, registry, now });
  await ingest.start();

  // Web processes carry only the bus's events, numbered by their origins (services/api/event-hub.ts).
  const hub = createEventHub(role === 'web' ? { local: false } : {});
  /** Set once connected: the core's own events go out on it. */
  let bus: Bus | undefined;
  /** Every event this process makes (closures, alerts, status, LINE quota): its clients, and in the core the bus. */
  const publish = (event: string, data: unknown): void => {
    if (role === 'web') return; // a web process makes no events (it takes no writes); the core's arrive on the bus
    hub.publish(event, data);
    if (role === 'core') bus?.publish(event, data);
  };
  // The app's audit log (issue 16: created here, not by the console); modules record detailed entries in words through `audit` (issue 13).
  const auditLog = createAuditLog(createSqliteAudit(db), now);
  const audit: AuditSink = (request, record) => auditLog.recordFor(request, record);
  const closures = createClosures({ repo: createSqliteClosures(db), registry, publish, audit, addressOf: (c) => clientAddress(c, config.TRUST_PROXY), timeZone, now });
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
    publish,
    timeZone,
    now,
    sweepMs: options.sweepMs ?? 5_000,
    // A web process shows the alerts; the core alone raises, sends and reminds (issue 15).
    passive: role === 'web',
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
  // The residents' subscriptions are in kansui.db: a web process counts them for the plan indicators without running LINE.
  const lineRepo = config.LINE_CHANNEL_SECRET && config.LINE_CHANNEL_TOKEN ? createSqliteLineSubscriptions(db) : undefined;
  if (lineRepo && config.LINE_CHANNEL_SECRET && config.LINE_CHANNEL_TOKEN && role !== 'web') {
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
      repo: lineRepo,
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
        publish('line_quota', { limit: q.limit ?? null, used: q.used, share: config.LINE_QUOTA_WARN_SHARE, short_min_level: config.LINE_QUOTA_SHORT_MIN_LEVEL });
      },
      onError: (err, context) => logger.error({ err, context }, 'line residents failed'),
      now,
      audit,
    });
  }
  alertMetrics.watchSubscriptions(alerting.residentCount);

  if (role === 'all') watchIngest(ingest, { metrics, logger, readingsIdentity });
  // Issue 12: the trend window first, so the live event, the snapshot and the alert engine's pushes all see this reading.
  ingest.on('reading', (reading, sensor) => trends.add(sensor.id, reading, Math.max(trendWindowMs, 2 * sensor.intervalS * 1000)));
  // Issue 12: a new sensor becomes public with its first valid reading (or when a technician says so in the console).
  ingest.on('reading', (_reading, sensor) => {
    if (role === 'web') return; // the core writes the registry
    if (sensor.commissioning && registry.get(sensor.id)?.commissioning) registry.update(sensor.id, { commissioning: undefined, updatedAt: now() });
  });
  /** The live map's `reading` event (services/api/live-events.ts), the same in every process that heard the reading. */
  const readingEvent = (reading: Reading, sensor: Sensor) => {
    const change = tracker.check(sensor.id);
    const latest = ingest.latest.get(sensor.id) === reading;
    return readingEventData(reading, { status: change?.status ?? tracker.current(sensor.id), latest, trend: latest ? trendOf(sensor) : undefined, timeZone });
  };
  // In a web process the bus handler below publishes it, numbered by the ingest worker that stored the reading.
  if (role !== 'web') ingest.on('reading', (reading, sensor) => void hub.publish('reading', readingEvent(reading, sensor)));
  if (role !== 'web') {
    ingest.on('reading', (reading, sensor) => {
      alerting.onReading(reading, sensor);
    });
  }
  // A web process keeps its statuses current for its readings' events; the core announces the changes.
  const statusSweep = startStatusSweep({ registry, tracker, intervalMs: options.sweepMs ?? 5_000, onChange: (c) => publish('status', statusEventData(c)) });

  let broker: EmbeddedBroker | undefined;
  let external: ExternalSubscriber | undefined;
  let mqttPort: number | undefined;
  let trendSeeding: Promise<void> | undefined;
  /** Set by stop(): background work ends early. */
  let closing = false;
  const onBrokerEvent = createMqttEventLog({ metrics, logger });
  // Sensor logins in an external Mosquitto (issue 15): password file + SIGHUP, or its dynamic-security plugin. The core provisions; web processes never write.
  const mosquitto = role === 'web' ? undefined : createMosquittoProvisioning(config);
  // Not fatal: with the broker down the ingest keeps retrying too, and an existing ingest login still works.
  await mosquitto?.prepare().catch((err: unknown) => logger.warn({ err }, 'mosquitto: could not prepare the ingest login (dynamic security)'));
  if (relay) {
    bus = await connectRoleBus(config, role === 'core' ? 'core' : 'web', {
      now,
      // The core keeps its session while it restarts, so no reading goes unevaluated; a web process resyncs its clients instead.
      clean: role === 'web',
      consume: role === 'core' ? [{ kind: 'ingest' }] : [{ kind: 'ingest' }, { kind: 'core' }],
      onMessage: (m) => onBusMessage(relay, m),
      onEvent: onBrokerEvent,
    });
    // Readings stored between the first look at the store and the subscription: found now (newer-only).
    await relay.start();
    // A web process started mid-storm shows the trend the others show (and a restarted core pushes the same one):
    // its trend window is filled from the store in the background, for the sensors that reported within it.
    trendSeeding = seedTrendWindow().catch((err: unknown) => logger.warn({ err }, 'could not fill the trend window from the store'));
  } else if (config.MQTT_URL) {
    external = await connectExternalSubscriber(subscriberOptions(config, ingest, onBrokerEvent));
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

  async function seedTrendWindow(): Promise<void> {
    const t = now();
    for (const sensor of registry.list()) {
      if (closing) return;
      const keepMs = Math.max(trendWindowMs, 2 * sensor.intervalS * 1000);
      const latest = ingest.latest.get(sensor.id);
      if (!latest || latest.observedAt < t - keepMs) continue;
      // Out of order and duplicates are fine: the window sorts and drops them (services/core/trend.ts).
      for (const p of await store.range({ sensorId: sensor.id, from: latest.observedAt - keepMs, to: latest.observedAt, limit: 10_000 })) trends.add(sensor.id, p, keepMs);
    }
  }

  /** What the bus brings (issue 15): stored readings from the ingest workers; in a web process also the core's events. */
  function onBusMessage(relay: ReadingRelay, m: BusMessage): void {
    if (m.event === 'reading' && 'reading' in m) {
      const sensor = relay.accept(m.reading);
      if (role !== 'web') return;
      if (sensor) hub.publishFrom(m.origin, m.seq, 'reading', readingEvent(m.reading, sensor));
      else hub.advance(m.origin, m.seq); // a sensor this process cannot find: no event, but no gap either
      return;
    }
    if (!('data' in m)) return;
    if (m.kind === 'ingest') {
      if (m.event === 'rejected') {
        // Refused readings, for the console's sensor health (and the raw distance "set zero now" uses).
        for (const r of parseBusRejections(m.data) ?? []) for (let i = 0; i < Math.min(r.n, 100); i++) relay.reject(r.reason as RejectReason, r.detail, r.sensor_id);
      } else if (m.event === 'fault' && role === 'core') {
        const { sensor_id: id, reason } = m.data as { sensor_id?: string; reason?: string };
        const sensor = id !== undefined ? registry.get(id) : undefined;
        if (sensor && (reason === 'tilt' || reason === 'no_target')) alerting.onFault(sensor, reason);
      }
      // The ingest worker's messages for the processes are no events for browsers; its sequence stays whole.
      if (role === 'web') hub.advance(m.origin, m.seq);
      return;
    }
    if (role !== 'web') return;
    if (m.event === 'changed') {
      // A write answered by the core (console, API): re-read what this process keeps in memory. Not for browsers.
      registry.refresh();
      closures.reload();
      alerting.reloadRecipients();
      hub.advance(m.origin, m.seq);
      return;
    }
    // The core changed the closures in force: this process's map and API follow.
    if (m.event === 'closure') closures.reload();
    hub.publishFrom(m.origin, m.seq, m.event, m.data);
  }

  // LoRaWAN network servers (issue 11): webhooks always mounted (token-guarded), MQTT when configured.
  // In the split roles the uplinks are an ingest worker's (services/root/ingest.ts, where nginx sends
  // /api/integrations/); here only the staff's view of them, without connecting to the network servers.
  const logUplink = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  const integrationsConfig: Config = role === 'all' ? config : { ...config, TTN_MQTT_URL: undefined, CHIRPSTACK_MQTT_URL: undefined };
  const integrations = await createIntegrations(integrationsConfig, {
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
    subscribers: () => ({ line: lineRepo?.counts().users, webpush: alerting.residentCount() }),
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
    middleware: [...(role === 'web' ? [refuseWrites()] : []), ...(role === 'core' ? [announceWrites((path) => bus?.publish('changed', { path }))] : []), ...createHttpPolicy({ trustProxy: config.TRUST_PROXY, tileUrl: config.MAP_TILE_URL, embedOrigins: config.EMBED_ORIGINS, auditWrites: auditLog.auditWrites }), plan.countViews],
    closureOf: closures.openFor,
    routes: [...(line ? [line.routes] : []), integrations.routes, closures.routes, board.routes, plan.routes, notifications.routes, reportRoutes({ registry, store, alertsIn: (from, to) => alerting.store.list({ from, to, limit: 10_000 }), closuresIn: closures.overlapping, timeZone }), createOpenDataRoutes({ registry, store, snapshot, timeZone, now }), sensorConsole.mount, alertRoutes({ alerting, registry, timeZone, now, clientInfo: { trustProxy: config.TRUST_PROXY, publicUrl: readPublicUrl(config) }, targetPolicy, pushMaxSubscriptions: config.PUSH_MAX_SUBSCRIPTIONS, onPushRefused: alertMetrics.onPushRefused, audit, closures, ...(vapidPublicKey && { vapidPublicKey }) })],
    map: { tileUrl: config.MAP_TILE_URL, attribution: config.MAP_ATTRIBUTION, center: config.MAP_CENTER, zoom: config.MAP_ZOOM },
    publicLinks,
    health: async () => ({
      store: await store.healthy().catch(() => false),
      broker: broker ? !broker.aedes.closed : (external?.connected() ?? bus?.connected() ?? false),
      http: true,
    }),
  });

  const http = await listenHttp(app.fetch, config);
  const httpPort = http.port;
  logger.info({ role, http_port: httpPort, mqtt_port: mqttPort, mqtt_url: config.MQTT_URL, store: store.kind, data_dir: config.DATA_DIR, ...(bus && { origin: bus.origin }) }, 'kansui started');

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    closing = true;
    stopping ??= (async () => {
      statusSweep.stop();
      // Stop taking readings first, let in-flight ones commit, then close the stores.
      await broker?.close();
      await external?.close();
      await bus?.close();
      await trendSeeding;
      await integrations.close();
      await mosquitto?.close();
      await ingest.drain();
      await alerting.close();
      if (alertsDb !== db) alertsDb.close();
      plan.close();
      notifications.close();
      line?.close();
      await http.close();
      await store.close();
      db.close();
      logger.info('kansui stopped');
    })();
    return stopping;
  }

  return { config, role, httpPort, mqttPort, app, db, users, registry, store, ingest, hub, metrics, logger, broker, external, bus, console: sensorConsole, alerting, line, closures, integrations, stop };
}
