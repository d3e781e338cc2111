import { hostname } from 'node:os';
import { z } from 'zod';
import type { Reading } from '../core/reading.ts';

/**
 * The derived events kansui's processes exchange through the broker (issue 15,
 * docs/scaling.md): topic `<prefix>/<origin kind>/<event>`, QoS 1, not
 * retained; payload `{ "o": origin, "s": seq, "e": event, "d": data }`.
 * `origin` is `<role>-<instance>-<boot>`, `seq` counts its events from 1.
 * A batch of stored readings is one message, event `readings`, whose `d` is
 * the readings in commit order: the i-th has seq `s + i` (one message per
 * group commit, not per reading, so a storm costs the bus a few messages a
 * second, not tens of thousands).
 */
export const BusEnvelope = z.object({
  o: z.string().regex(/^[A-Za-z0-9_-]{1,120}$/),
  s: z.number().int().positive(),
  e: z.string().regex(/^[a-z_]{1,40}$/),
  d: z.unknown(),
});
export type BusEnvelope = z.infer<typeof BusEnvelope>;

/** A stored reading as the ingest publishes it (services/core/reading.ts `Reading`, as JSON). */
const BusReading = z.object({
  sensorId: z.string().min(1).max(64),
  observedAt: z.number().finite(),
  levelCm: z.number().finite(),
  distanceMm: z.number().finite().optional(),
  batteryV: z.number().finite().optional(),
  rssiDbm: z.number().finite().optional(),
  seq: z.number().finite().optional(),
  batteryPct: z.number().finite().optional(),
  snrDb: z.number().finite().optional(),
  wetCm: z.array(z.number().finite()).max(64).optional(),
});
export const BusReadings = z.array(BusReading).max(100_000);

/**
 * Refused readings of known sensors, counted by sensor and reason since the
 * last message (an ingest worker sends at most a few a second), with the last
 * detail: the console's sensor health shows them, and "set zero now" uses the
 * raw distance of a reading refused as not yet calibrated.
 */
const BusRejection = z.object({
  sensor_id: z.string().min(1).max(64),
  reason: z.string().regex(/^[a-z_]{1,40}$/),
  detail: z.string().max(200),
  n: z.number().int().positive(),
});
export type BusRejection = z.infer<typeof BusRejection>;

export function parseBusRejections(data: unknown): BusRejection[] | undefined {
  const parsed = z.array(BusRejection).max(10_000).safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

/** The event carrying stored readings. */
export const READINGS_EVENT = 'readings';

export type OriginKind = 'core' | 'ingest' | 'web';

export function busTopic(prefix: string, kind: OriginKind, event: string): string {
  return `${prefix}/${kind}/${event}`;
}

/** The default instance name: the host and the process id, in the characters an origin may hold. */
export function defaultInstance(): string {
  return `${hostname()}_${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
}

/** `<role>-<instance>-<boot>`: a new origin each start, so a restarted process's seq 1 is never taken for a redelivery. */
export function makeOrigin(kind: OriginKind, instance: string, bootMs: number): string {
  return `${kind}-${instance}-${bootMs.toString(36)}`;
}

/** Readings parsed off the bus; `Reading` is plain data, so the validated JSON is one. */
export function parseBusReadings(data: unknown): Reading[] | undefined {
  const parsed = BusReadings.safeParse(data);
  return parsed.success ? (parsed.data as Reading[]) : undefined;
}
