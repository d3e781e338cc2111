import type { LoginThrottle, ThrottleScope } from '../core/login-throttle.ts';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { SessionStore } from '../auth/session-store.ts';
import type { UserStore } from '../auth/user-store.ts';
import type { CalibrationStore } from '../sensors/calibration-store.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';
import type { SensorAdmin } from '../sensors/sensor-admin.ts';
import type { SensorHealthTracker } from './sensor-health.ts';

/**
 * One sign-in attempt's outcome. `username` is as typed; it is logged only
 * when `userExists` (an unknown "username" may be a password typed into the
 * wrong field).
 */
export type SignInEvent = { username: string; userExists: boolean; address: string } & (
  | { result: 'ok' }
  | { result: 'failed'; /** limits this failure reached */ reached: ThrottleScope[]; /** admitted through a slowed username's shared slot */ slowLane: boolean }
  | { result: 'throttled'; reason: ThrottleScope | 'hash_queue' }
  | { result: 'busy' }
);

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
  /** Register and rotate: the application functions the CLI uses too (issue 16). */
  sensorAdmin: SensorAdmin;
  /** Sensors connected to the embedded broker right now (undefined: unknown, external broker). */
  connectedSensorIds?: (() => ReadonlySet<string>) | undefined;
  mqtt: { host?: string | undefined; port?: number | undefined; external: boolean };
  trustProxy: boolean;
  /** Counts sign-in outcomes for /metrics and logs them (create-console.ts decides how). */
  reportSignIn: (event: SignInEvent) => void;
  /** SIGNIN_MAX_HASHES_PER_ADDRESS: password hashes one address may have running or waiting. */
  maxHashesPerAddress: number;
  timeZone: string;
  now: () => number;
}
