import type { Hono } from 'hono';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createLoginThrottle } from '../core/login-throttle.ts';
import type { SessionRepository } from '../core/auth.ts';
import type { CalibrationRepository } from '../core/calibration.ts';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { MAX_HASHES_PER_ADDRESS } from '../auth/hash-queue.ts';
import type { AuthEnv, Authenticator } from '../auth/middleware.ts';
import { hashQueueStats } from '../auth/passwords.ts';
import { readSessionCookie } from '../auth/request-guard.ts';
import { createSessionStore, type SessionStore } from '../auth/session-store.ts';
import type { UserStore } from '../auth/user-store.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { createCalibrationStore, type CalibrationStore } from '../sensors/calibration-store.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';
import { createSensorAdmin } from '../sensors/sensor-admin.ts';
import { createRateLimitedLog, type Logger } from '../logger.ts';
import type { SignInEvent } from './context.ts';
import { createSensorHealth, type SensorHealthTracker } from './sensor-health.ts';
import { mountSensorRoutes } from './sensor-routes.ts';
import { mountSessionRoutes } from './session-routes.ts';
import { mountUserRoutes } from './user-routes.ts';

export interface ConsoleDeps {
  /** The console's state, each behind its port (issue 16); adapters chosen by the composition root. */
  repos: { sessions: SessionRepository; calibrations: CalibrationRepository };
  /** The app's audit log: the root creates it, and its middleware is part of the app-wide HTTP policy (services/api/http-policy.ts). */
  audit: AuditLog;
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
  timeZone: string;
  now?: () => number;
  /** Prometheus registry of /metrics (services/metrics.ts). */
  metricsRegistry?: Registry;
  /** Sign-in limits (SIGNIN_* in services/config.ts); unset ones keep the defaults of services/core/login-throttle.ts. */
  signIn?: SignInLimits;
  /** Failed sign-ins and reached limits are logged here (rate-limited per address). */
  logger?: Logger;
}

/** The operator's sign-in limits; see the README's configuration table. */
export interface SignInLimits {
  /** SIGNIN_MAX_FAILURES: failures a minute for one username from one address. */
  maxFailures?: number;
  /** SIGNIN_MAX_FAILURES_PER_ADDRESS: failures a minute from one address, any username. */
  maxFailuresPerAddress?: number;
  /** SIGNIN_USER_SLOWDOWN_AFTER: failures in 15 minutes for one username, from all addresses, before it is slowed down. */
  userSlowdownAfter?: number;
  /** SIGNIN_USER_SLOW_INTERVAL_S, in ms: while slowed, one attempt per this from addresses that have not signed in as the user. */
  userSlowIntervalMs?: number;
  /** SIGNIN_MAX_HASHES_PER_ADDRESS: password hashes one address may have running or waiting. */
  maxHashesPerAddress?: number;
}

export interface KansuiConsole {
  /** Recognises the session cookie; goes into createApi's `authenticators`. */
  authenticator: Authenticator;
  /** Session, sensor-admin, user and audit routes; goes into createApi's `routes`. */
  mount(app: Hono<AuthEnv>): void;
  sessions: SessionStore;
  audit: AuditLog;
  calibrations: CalibrationStore;
  health: SensorHealthTracker;
}

/**
 * The technician and staff console's server side (issue 5): sign-in with
 * server-side sessions, sensor provisioning and calibration, users, tokens,
 * the audit log's routes. The front end is web/console/. CSRF, security
 * headers and the audit of every write are app-wide, not the console's:
 * services/api/http-policy.ts, installed by the root.
 */
export function createConsole(deps: ConsoleDeps): KansuiConsole {
  const now = deps.now ?? Date.now;
  const sessions = createSessionStore(deps.repos.sessions, deps.users, now);
  const audit = deps.audit;
  const calibrations = createCalibrationStore(deps.repos.calibrations);
  const health = createSensorHealth({ ingest: deps.ingest, store: deps.store, now });
  const signIns = new Counter({
    name: 'kansui_console_sign_ins_total',
    help: 'Console sign-in attempts by result (ok, failed, throttled, busy)',
    labelNames: ['result'],
    registers: deps.metricsRegistry ? [deps.metricsRegistry] : [],
  });
  for (const result of ['ok', 'failed', 'throttled', 'busy']) signIns.inc({ result }, 0);
  const refusals = new Counter({
    name: 'kansui_console_sign_ins_refused_total',
    help: 'Sign-in attempts answered 429, by the limit that refused them (pair: username from one address, address, user: slowed username, hash_queue: too many hashes from one address)',
    labelNames: ['reason'],
    registers: deps.metricsRegistry ? [deps.metricsRegistry] : [],
  });
  for (const reason of ['pair', 'address', 'user', 'hash_queue']) refusals.inc({ reason }, 0);
  new Gauge({
    name: 'kansui_console_password_hashes',
    help: 'Password hashes running and waiting (at most 2 run; the queue is fair per address)',
    labelNames: ['state'],
    registers: deps.metricsRegistry ? [deps.metricsRegistry] : [],
    collect() {
      const { running, waiting } = hashQueueStats();
      this.set({ state: 'running' }, running);
      this.set({ state: 'waiting' }, waiting);
    },
  });
  // One line per failure and per reached limit, at most 10 a minute per key (then a count of the rest):
  // OWASP Authentication Cheat Sheet, "Logging and Monitoring": log every failure and every lockout.
  const logInfo = createRateLimitedLog((_key, msg, fields) => deps.logger?.info(fields, msg), { now });
  const logWarn = createRateLimitedLog((_key, msg, fields) => deps.logger?.warn(fields, msg), { now });
  const reportSignIn = (e: SignInEvent) => {
    signIns.inc({ result: e.result });
    // A username nobody has may be a password typed into the wrong field: never logged.
    const who = { address: e.address, ...(e.userExists ? { username: e.username } : { user_exists: false }) };
    if (e.result === 'throttled') refusals.inc({ reason: e.reason });
    if (e.result === 'busy') logWarn('busy', 'sign-in refused: password hash queue full', who);
    if (e.result !== 'failed') return;
    logInfo(`failed:${e.address}`, 'sign-in failed', e.slowLane ? { ...who, slow_lane: true } : who);
    for (const limit of e.reached) {
      const key = limit === 'user' ? `limit:user:${e.username}` : `limit:${limit}:${e.address}`;
      logWarn(key, limit === 'user' ? 'sign-in slowed for username (failures from many addresses)' : 'sign-in limit reached', { ...who, limit });
    }
  };
  const limits = deps.signIn ?? {};
  const ctx = {
    users: deps.users,
    sessions,
    audit,
    throttle: createLoginThrottle({
      ...(limits.maxFailures !== undefined && { maxPerPair: limits.maxFailures }),
      ...(limits.maxFailuresPerAddress !== undefined && { maxPerAddress: limits.maxFailuresPerAddress }),
      ...(limits.userSlowdownAfter !== undefined && { userSlowAfter: limits.userSlowdownAfter }),
      ...(limits.userSlowIntervalMs !== undefined && { userSlowIntervalMs: limits.userSlowIntervalMs }),
    }),
    maxHashesPerAddress: limits.maxHashesPerAddress ?? MAX_HASHES_PER_ADDRESS,
    registry: deps.registry,
    store: deps.store,
    latest: deps.latest,
    calibrations,
    health,
    sink: deps.sink,
    sensorAdmin: createSensorAdmin({ registry: deps.registry, calibrations, audit, sink: deps.sink, now }),
    connectedSensorIds: deps.connectedSensorIds,
    mqtt: deps.mqtt,
    trustProxy: deps.trustProxy,
    reportSignIn,
    timeZone: deps.timeZone,
    now,
  };
  sessions.sweep();
  return {
    authenticator: (c) => {
      const id = readSessionCookie(c, deps.trustProxy);
      return id ? sessions.verify(id) : undefined;
    },
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
