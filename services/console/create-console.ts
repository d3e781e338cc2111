import type { Hono, MiddlewareHandler } from 'hono';
import { Counter, type Registry } from 'prom-client';
import { createLoginThrottle } from '../core/login-throttle.ts';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import { createAuditLog, type AuditLog } from '../audit/audit-log.ts';
import { clientAddress } from '../api/client-info.ts';
import type { AuthEnv, Authenticator } from '../auth/middleware.ts';
import { csrfGuard, readSessionCookie, securityHeaders } from '../auth/request-guard.ts';
import { createSessionStore, type SessionStore } from '../auth/session-store.ts';
import type { UserStore } from '../auth/user-store.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { createCalibrationStore, type CalibrationStore } from '../sensors/calibration-store.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';
import type { SqliteDatabase } from '../storage/sqlite.ts';
import { createSensorHealth, type SensorHealthTracker } from './sensor-health.ts';
import { mountSensorRoutes } from './sensor-routes.ts';
import { mountSessionRoutes } from './session-routes.ts';
import { mountUserRoutes } from './user-routes.ts';

export interface ConsoleDeps {
  db: SqliteDatabase;
  users: UserStore;
  registry: SensorRegistry;
  store: ReadingStore;
  ingest: Ingest;
  latest: ReadonlyMap<string, Reading>;
  sink: CredentialSink;
  /** Embedded broker only: see connection-tracker.ts. */
  connectedSensorIds?: (() => ReadonlySet<string>) | undefined;
  mqtt: { host?: string | undefined; port?: number | undefined; external: boolean };
  /** TRUST_PROXY: believe X-Forwarded-Proto/-Host/-For from a TLS-terminating proxy. */
  trustProxy: boolean;
  /** MAP_TILE_URL: allowed as an image source in the CSP. */
  tileUrl: string;
  timeZone: string;
  now?: () => number;
  /** Prometheus registry of /metrics (services/metrics.ts). */
  metricsRegistry?: Registry;
}

export interface KansuiConsole {
  /** Recognises the session cookie; goes into createApi's `authenticators`. */
  authenticator: Authenticator;
  /** Security headers and CSRF guard; go into createApi's `middleware`, before every route module. */
  middleware: MiddlewareHandler<AuthEnv>[];
  /** Session, sensor-admin, user and audit routes; goes into createApi's `routes`. */
  mount(app: Hono<AuthEnv>): void;
  sessions: SessionStore;
  audit: AuditLog;
  calibrations: CalibrationStore;
  health: SensorHealthTracker;
}

/**
 * The technician and staff console's server side (issue 5): sign-in with
 * server-side sessions, CSRF and security headers for the whole app, sensor
 * provisioning and calibration, users, tokens, audit log. The front end is
 * web/console/.
 */
export function createConsole(deps: ConsoleDeps): KansuiConsole {
  const now = deps.now ?? Date.now;
  const sessions = createSessionStore(deps.db, now);
  const audit = createAuditLog(deps.db, now);
  const calibrations = createCalibrationStore(deps.db);
  const health = createSensorHealth({ ingest: deps.ingest, store: deps.store, now });
  const signIns = new Counter({
    name: 'kansui_console_sign_ins_total',
    help: 'Console sign-in attempts by result (ok, failed, throttled, busy)',
    labelNames: ['result'],
    registers: deps.metricsRegistry ? [deps.metricsRegistry] : [],
  });
  for (const result of ['ok', 'failed', 'throttled', 'busy']) signIns.inc({ result }, 0);
  const ctx = {
    users: deps.users,
    sessions,
    audit,
    throttle: createLoginThrottle(),
    registry: deps.registry,
    store: deps.store,
    latest: deps.latest,
    calibrations,
    health,
    sink: deps.sink,
    connectedSensorIds: deps.connectedSensorIds,
    mqtt: deps.mqtt,
    trustProxy: deps.trustProxy,
    countSignIn: (result: 'ok' | 'failed' | 'throttled' | 'busy') => signIns.inc({ result }),
    timeZone: deps.timeZone,
    now,
  };
  sessions.sweep();
  return {
    authenticator: (c) => {
      const id = readSessionCookie(c, deps.trustProxy);
      return id ? sessions.verify(id) : undefined;
    },
    middleware: [
      securityHeaders({ trustProxy: deps.trustProxy, tileUrl: deps.tileUrl }),
      csrfGuard({ trustProxy: deps.trustProxy }),
      audit.auditWrites((c) => clientAddress(c, deps.trustProxy)),
    ],
    mount(app) {
      app.get('/console', (c) => c.redirect('/console/', 301));
      mountSessionRoutes(app, ctx);
      mountSensorRoutes(app, ctx);
      mountUserRoutes(app, ctx);
    },
    sessions,
    audit,
    calibrations,
    health,
  };
}
