import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authenticate, bearerAuthenticator, type AuthEnv } from '../auth/middleware.ts';
import { createUserStore } from '../auth/user-store.ts';
import { createSqliteUsers } from '../storage/sqlite-accounts.ts';
import { errorBody, handleError } from '../api/errors.ts';
import { connectExternalSubscriber, type ExternalSubscriber } from '../broker/external-subscriber.ts';
import type { Bus } from '../bus/mqtt-bus.ts';
import type { BusRejection } from '../bus/bus-events.ts';
import type { Config } from '../config.ts';
import { DEFAULT_TIME_ZONE, formatIso } from '../core/time.ts';
import { createIngest, type Ingest } from '../ingest/create-ingest.ts';
import { createIntegrations, type Integrations } from '../integrations/create-integrations.ts';
import { createLogger, createRateLimitedLog, type Logger } from '../logger.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import { connectRoleBus, createMqttEventLog, listenHttp, openState, subscriberOptions, watchIngest, type RootOptions } from './shared.ts';

export interface KansuiIngest {
  config: Config;
  role: 'ingest';
  httpPort: number;
  ingest: Ingest;
  metrics: Metrics;
  logger: Logger;
  external: ExternalSubscriber;
  bus: Bus;
  integrations: Integrations;
  stop(): Promise<void>;
}

/**
 * An ingest worker (KANSUI_ROLE=ingest, issue 15): readings from the external
 * broker (a shared subscription with MQTT_SHARE_GROUP) and the LoRaWAN network
 * servers, validated and stored, each stored batch then published on the bus
 * for the core and the web processes. Its HTTP port answers /healthz, /metrics
 * (what this worker accepted) and the network servers' webhooks only.
 */
export async function startIngestRole(config: Config, options: RootOptions = {}): Promise<KansuiIngest> {
  if (!config.MQTT_URL) throw new Error('KANSUI_ROLE=ingest needs MQTT_URL'); // loadConfig refuses this already
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  const { db, registry, store, readingsIdentity } = await openState(config, options, { logger, metrics, writes: true });
  // The bus connects before the ingest takes anything: a batch counts as written (and its sensors get their
  // PUBACKs) only once it is stored AND the bus has acknowledged its `readings` message (issue 15), so a worker
  // killed in between cannot leave readings stored and acknowledged that the core never evaluates and no viewer
  // sees (seen once in the multi-process test: 6 readings). If the bus refuses, the batch fails: the sensors'
  // broker delivers it again and the store keeps it once.
  const onMqttEvent = createMqttEventLog({ metrics, logger });
  const bus = await connectRoleBus(config, 'ingest', { now, clean: true, onEvent: onMqttEvent });
  const ingest = createIngest({ store, registry, now, announce: (readings) => bus.publishReadings(readings) });
  await ingest.start();
  watchIngest(ingest, { metrics, logger, readingsIdentity });
  // Sensors registered or changed by the core (another process): the registry reloads on kansui.db's sensors_version.
  const refreshTimer = setInterval(() => registry.refresh(), 5_000);
  refreshTimer.unref();

  // Refused readings of known sensors, summed by sensor and reason, at most 4 messages a second (whatever a sensor sends).
  const refused = new Map<string, BusRejection>();
  let refusedTimer: ReturnType<typeof setTimeout> | undefined;
  const sendRefused = () => {
    refusedTimer = undefined;
    const list = [...refused.values()];
    refused.clear();
    if (list.length) bus.publish('rejected', list.slice(0, 10_000));
  };
  ingest.on('rejected', (reason, detail, sensorId) => {
    if (sensorId === undefined || reason === 'unknown_sensor') return;
    const key = `${sensorId}\u0000${reason}`;
    const r = refused.get(key);
    if (r) {
      r.n++;
      r.detail = detail.slice(0, 200);
    } else refused.set(key, { sensor_id: sensorId, reason, detail: detail.slice(0, 200), n: 1 });
    refusedTimer ??= setTimeout(sendRefused, 250);
  });

  const logUplink = createRateLimitedLog((_key, msg, fields) => logger.warn(fields, msg));
  const integrations = await createIntegrations(config, {
    registry,
    ingest,
    metricsRegistry: metrics.registry,
    now,
    formatTime: (ms) => formatIso(ms, DEFAULT_TIME_ZONE),
    onEvent: onMqttEvent,
    onUplink: (source, r) => {
      if (r.outcome === 'unknown_device' || r.outcome === 'invalid') logUplink(`uplink:${source}:${r.outcome}`, 'uplink not taken', { source, outcome: r.outcome, detail: r.detail });
      // The device says it is not measuring the water: the core raises a sensor-health alert for staff.
      if (r.sensorId !== undefined && (r.reason === 'tilt' || r.reason === 'no_target')) bus.publish('fault', { sensor_id: r.sensorId, reason: r.reason });
    },
  });
  // Set once the subscriber is connected, last of all (below).
  let external: ExternalSubscriber | undefined;
  metrics.setConnectedSensors(() => (external?.connected() ? 1 : 0));
  metrics.setStoreStats(() => store.stats?.());

  const app = new Hono<AuthEnv>();
  app.onError((err, c) => handleError(err, c, (e) => logger.error({ err: e }, 'request failed')));
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path} on an ingest worker (KANSUI_ROLE=ingest)`), 404));
  app.use('*', bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json(errorBody('payload_too_large', 'request body over 64 KiB'), 413) }));
  // The network servers' webhooks carry a technician's API token (services/integrations/routes.ts), kept in kansui.db.
  const users = createUserStore(createSqliteUsers(db), now);
  app.use('*', authenticate([bearerAuthenticator((token) => users.verifyToken(token))]));
  app.get('/healthz', async (c) => {
    const checks = { store: await store.healthy().catch(() => false), broker: external?.connected() ?? false, bus: bus.connected(), http: true };
    const ok = Object.values(checks).every(Boolean);
    return c.json({ status: ok ? 'ok' : 'degraded', checks }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  integrations.routes(app);
  const http = await listenHttp(app.fetch, config);
  // Readings last: a backlog queued in the broker arrives in full at once, so everything else is up first
  // (HTTP for /healthz, the store's writer) and start-up work does not compete with the first batches.
  // Several workers split the readings through a shared subscription (MQTT_SHARE_GROUP).
  external = await connectExternalSubscriber(subscriberOptions(config, ingest, onMqttEvent));
  logger.info({ role: 'ingest', http_port: http.port, mqtt_url: config.MQTT_URL, share_group: config.MQTT_SHARE_GROUP, origin: bus.origin, store: store.kind }, 'kansui ingest worker started');

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(refreshTimer);
      if (refusedTimer) clearTimeout(refusedTimer);
      await external?.close();
      await integrations.close();
      await ingest.drain(); // every commit's bus message is acknowledged by now (announce)
      sendRefused();
      await bus.close();
      await http.close();
      await store.close();
      db.close();
      logger.info('kansui ingest worker stopped');
    })();
    return stopping;
  }
  return { config, role: 'ingest', httpPort: http.port, ingest, metrics, logger, external, bus, integrations, stop };
}
