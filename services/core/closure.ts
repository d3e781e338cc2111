import { z } from 'zod';
import { SensorId } from './sensor.ts';

/**
 * A road closure (通行止め) set by city staff: a fact the city decides, kept
 * apart from what a sensor measures. kansui never closes a road from a
 * reading (product rule: never say 通行止め from a sensor reading); staff
 * mark it, with a reason, and lift it later.
 */
export interface Closure {
  id: string;
  sensorId: string;
  reason: string;
  /** When staff set it, epoch ms. */
  since: number;
  /** Username of who set it. */
  by: string;
  /** When it was lifted (undefined while the road is closed). */
  liftedAt: number | undefined;
  liftedBy: string | undefined;
}

/** `POST /api/closures` body. */
export const ClosureInputSchema = z
  .object({
    sensor: SensorId,
    reason: z.string().trim().min(1).max(500),
  })
  .strict();
export type ClosureInput = z.infer<typeof ClosureInputSchema>;

/**
 * Port for closures. Adapters: SQLite (services/storage/sqlite-closures.ts)
 * and memory (tests), under one contract suite.
 */
export interface ClosureRepository {
  /** Store a new closure. */
  insert(closure: Closure): void;
  /** Mark one lifted; false when unknown or already lifted. */
  lift(id: string, by: string, at: number): boolean;
  get(id: string): Closure | undefined;
  /** Closures in force, oldest first. */
  open(): Closure[];
  /** Closures in force at any time in [from, to], oldest first (event reports). */
  overlapping(from: number, to: number): Closure[];
}

/** A closure as the API shows it: `properties.closure` in /api/sensors, GET /api/closures. */
export function closureToJson(c: Closure, formatTime: (ms: number) => string, o: { includeBy: boolean }) {
  return {
    id: c.id,
    sensor_id: c.sensorId,
    reason: c.reason,
    since: formatTime(c.since),
    set_by_city: true as const,
    ...(o.includeBy && { by: c.by }),
    lifted_at: c.liftedAt === undefined ? null : formatTime(c.liftedAt),
  };
}

/** Words for a closure in both languages, for maps, feeds and messages. */
export const CLOSURE_LABEL = { ja: '通行止め（市が設定）', en: 'Road closed (set by the city)' } as const;
