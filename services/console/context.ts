import type { LoginThrottle } from '../core/login-throttle.ts';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { SessionStore } from '../auth/session-store.ts';
import type { UserStore } from '../auth/user-store.ts';
import type { CalibrationStore } from '../sensors/calibration-store.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';
import type { SensorHealthTracker } from './sensor-health.ts';

/** What the console's route modules share (built once in create-console.ts). */
export interface ConsoleContext {
  users: UserStore;
  sessions: SessionStore;
  audit: AuditLog;
  throttle: LoginThrottle;
  registry: SensorRegistry;
  store: ReadingStore;
  latest: ReadonlyMap<string, Reading>;
  calibrations: CalibrationStore;
  health: SensorHealthTracker;
  sink: CredentialSink;
  /** Sensors connected to the embedded broker right now (undefined: unknown, external broker). */
  connectedSensorIds?: (() => ReadonlySet<string>) | undefined;
  mqtt: { host?: string | undefined; port?: number | undefined; external: boolean };
  trustProxy: boolean;
  /** Counts sign-in outcomes for /metrics (brute force shows up as `failed`/`throttled`). */
  countSignIn: (result: 'ok' | 'failed' | 'throttled' | 'busy') => void;
  timeZone: string;
  now: () => number;
}
