import { z } from 'zod';
import type { Alert } from './alert.ts';
import { ChannelKindSchema, type Recipient } from './channel.ts';
import { AlertSeveritySchema, type AlertSettings } from './policy.ts';

export const AlertEventTypeSchema = z.enum(['raised', 'escalated', 'eased', 'updated', 'acknowledged', 'resolved', 'reminded']);

/** One entry of an alert's timeline. */
export const AlertEventRowSchema = z.object({
  type: AlertEventTypeSchema,
  at: z.number(),
  severity: AlertSeveritySchema,
  levelCm: z.number().optional(),
  actor: z.string().optional(),
  note: z.string().optional(),
});
export type AlertEventRow = z.infer<typeof AlertEventRowSchema>;

/** One attempt to deliver one notice to one recipient. */
export const DeliveryLogEntrySchema = z.object({
  noticeId: z.string(),
  alertId: z.string(),
  event: AlertEventTypeSchema,
  recipientId: z.string(),
  channel: ChannelKindSchema,
  /** Shown to staff; push endpoints are reduced to their origin (they are capability URLs). */
  target: z.string(),
  attempt: z.number().int(),
  ok: z.boolean(),
  /** No further attempt follows (delivered, permanent failure, or retries exhausted). */
  final: z.boolean(),
  status: z.number().int().optional(),
  /** `HTTP 503`, `SMTP 550` or a class such as `timeout`, `outbound_refused:loopback`: never the remote side's words. */
  error: z.string().optional(),
  durationMs: z.number(),
  at: z.number(),
});
export type DeliveryLogEntry = z.infer<typeof DeliveryLogEntrySchema>;

/** History: alerts overlapping [from, to] (raised at or before `to`, not resolved before `from`). */
export const AlertQuerySchema = z.object({
  active: z.boolean().optional(),
  from: z.number().optional(),
  to: z.number().optional(),
  sensorId: z.string().optional(),
  /** Default 500. */
  limit: z.number().int().positive().optional(),
});
export type AlertQuery = z.infer<typeof AlertQuerySchema>;

export const DeliveryQuerySchema = z.object({
  alertId: z.string().optional(),
  failedOnly: z.boolean().optional(),
  /** Default 200. */
  limit: z.number().int().positive().optional(),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuerySchema>;

/**
 * Port for alerts, their timelines, the delivery log and per-sensor alert
 * settings (issue 16). Adapters: services/storage/sqlite-alerts.ts,
 * memory-alerts.ts; both pass test/contract/alerts.contract.ts.
 */
export interface AlertRepository {
  /** A new alert and its first timeline event, atomically. At most one unresolved alert per sensor and kind. */
  insert(alert: Alert, event: AlertEventRow): void;
  /** A changed alert and the event that changed it, atomically. */
  update(alert: Alert, event: AlertEventRow | undefined): void;
  get(id: string): Alert | undefined;
  /** Unresolved alerts, oldest raised first. */
  active(): Alert[];
  /** Newest raised first. */
  list(query: AlertQuery): Alert[];
  /** Timeline, in the order written. */
  events(alertId: string): AlertEventRow[];
  /** May be buffered (written in batches); `deliveries()` and `flushDeliveries()` make it visible. Ignored after close(). */
  logDelivery(entry: DeliveryLogEntry): void;
  flushDeliveries(): void;
  /** Newest first. */
  deliveries(query: DeliveryQuery): DeliveryLogEntry[];
  settings(sensorId: string): AlertSettings | undefined;
  setSettings(sensorId: string, settings: AlertSettings, now: number): void;
  /** Write what is buffered and stop logging deliveries (shutdown). */
  close(): void;
}

/** What is kept of a recipient besides the recipient itself. */
export interface RecipientExtra {
  /** Residents' push: hash of the unsubscribe token handed to the browser. */
  unsubscribeHash?: string;
  /** Who added it (address of a resident's browser). */
  client?: string;
  createdBy?: string;
  now: number;
}

/**
 * Port for stored alert recipients: staff-added webhooks, LINE, e-mail and
 * residents' Web Push subscriptions (issue 16). Recipients from the
 * environment and staff preferences are not stored here. Adapters:
 * services/storage/sqlite-recipients.ts, memory-recipients.ts; both pass
 * test/contract/recipients.contract.ts.
 */
export interface RecipientRepository {
  /** Oldest first. */
  list(): Recipient[];
  /** Throws DomainError `conflict` for a taken id, push endpoint or unsubscribe hash. */
  add(recipient: Recipient, extra: RecipientExtra): void;
  remove(id: string): boolean;
  /** Web Push: the recipient with this endpoint, or with this unsubscribe-token hash. */
  findPush(by: { endpoint?: string; unsubscribeHash?: string }): Recipient | undefined;
}
