import { z } from 'zod';

/** What an audit entry records (issue 5: who, what, when, before/after). */
export const AUDIT_ACTIONS = [
  'session.login',
  'session.logout',
  'user.create',
  'user.update',
  'user.password',
  'token.create',
  'token.revoke',
  'sensor.create',
  'sensor.update',
  'sensor.credentials.rotate',
  'sensor.credentials.revoke',
  'sensor.calibration.zero',
  /** Issue 13: staff acknowledged an alert (after: sensor_id, sensor_name, severity, level_name, note). */
  'alert.acknowledge',
  /** Issue 13: staff closed a road at a sensor, or lifted the closure (after: sensor_id, sensor_name, reason). */
  'closure.create',
  'closure.lift',
  /** Issue 13: a user's notification preferences were set (by themselves or an admin); after: the preferences without push keys. */
  'user.notifications',
  /** Issue 14: an admin changed what LINE residents get while the quota is short (before/after: quota_short_min_level). */
  'line.settings',
  /** Issue 13: staff added or removed an alert recipient (after/before: channel, target as shown to staff, label); a technician changed a sensor's alert settings. */
  'alert.recipient.add',
  'alert.recipient.remove',
  'alert.settings',
  /** A successful write by a route that keeps no detailed entry of its own (alerts, recipients, …): who, when, method and path. */
  'http.write',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditTargetTypeSchema = z.enum(['sensor', 'user', 'token', 'session', 'route', 'alert', 'closure', 'line']);

export const AuditEntrySchema = z.object({
  id: z.number().int(),
  /** Epoch ms. */
  at: z.number(),
  /** `null` for the CLI or the system. */
  actorUserId: z.number().int().nullable(),
  /** Username, or `cli` for the command line. */
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  targetType: AuditTargetTypeSchema,
  targetId: z.string(),
  /** Already without secrets (redactSecrets). */
  before: z.unknown(),
  after: z.unknown(),
  /** Client address when the change came over HTTP. */
  address: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
/** An entry before the repository numbers it. */
export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/**
 * How a route module writes a detailed audit entry for the request it is
 * answering (structurally the console audit log's `recordFor`), so modules
 * outside the console (alerts, closures, LINE) record in words, not as a
 * generic `http.write`.
 */
export type AuditSink = (request: Request, record: AuditRecord & { actor: Exclude<AuditRecord['actor'], 'cli'> }) => void;

/** One change to record: by a signed-in user or token, or by the shell (`cli`). */
export interface AuditRecord {
  actor: { userId: number; username: string } | 'cli';
  action: AuditAction;
  targetType: AuditEntry['targetType'];
  targetId: string;
  before?: unknown;
  after?: unknown;
  address?: string | null;
}

export const AuditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(200),
    before: z.coerce.number().int().positive().optional(),
    target: z.string().max(200).optional(),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

/**
 * Port for the append-only audit log (issue 16). Adapters:
 * services/storage/sqlite-audit.ts, memory-audit.ts; both pass
 * test/contract/audit.contract.ts. No method updates or deletes an entry.
 */
export interface AuditRepository {
  /** Store one entry; returns its id (ids rise with every entry). */
  append(entry: NewAuditEntry): number;
  /** Newest first; `before` pages by id, `target` keeps one target id. */
  list(query: AuditQuery): AuditEntry[];
}

/** Keys that never go into an audit entry, whatever object is logged. */
const SECRET_KEYS = new Set(['password', 'passwordHash', 'password_hash', 'token', 'tokenHash', 'token_hash']);

/** A copy of `value` without secrets, safe to keep in the audit log. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !SECRET_KEYS.has(k))
        .map(([k, v]) => [k, redactSecrets(v)]),
    );
  }
  return value;
}
