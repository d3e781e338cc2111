import { z } from 'zod';
import { SensorId } from './sensor.ts';

/**
 * A road closure (通行止め) set by city staff: a fact the city decides, kept
 * apart from what a sensor measures. kansui never closes a road from a
 * reading (product rule: never say 通行止め from a sensor reading); staff
 * mark it, with a reason, and lift it later.
 */
/** A stretch of road staff draw (a line through points), when a closure is not one sensor's road. */
export interface RoadSegment {
  /** What the city calls it, e.g. `県道打田線 打田駅前〜東田中`. */
  name: string;
  /** [longitude, latitude] pairs along the road (WGS 84, GeoJSON order, RFC 7946 §3.1.1). */
  path: [number, number][];
}

export interface Closure {
  id: string;
  /** The sensor whose road is closed; undefined for a drawn road segment. */
  sensorId: string | undefined;
  /** A drawn road segment, when the closure is not one sensor's road. */
  segment: RoadSegment | undefined;
  reason: string;
  /** When staff set it, epoch ms. */
  since: number;
  /** Username of who set it. */
  by: string;
  /** When it was lifted (undefined while the road is closed). */
  liftedAt: number | undefined;
  liftedBy: string | undefined;
}

const Lon = z.number().min(-180).max(180);
const Lat = z.number().min(-90).max(90);
export const RoadSegmentSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** 2–200 points: a road, not an area; 200 is far more than any closed stretch needs. */
    path: z.array(z.tuple([Lon, Lat])).min(2).max(200),
  })
  .strict();

/** `POST /api/closures` body: a sensor's road, or a drawn road segment. */
export const ClosureInputSchema = z.union([
  z.object({ sensor: SensorId, reason: z.string().trim().min(1).max(500) }).strict(),
  z.object({ segment: RoadSegmentSchema, reason: z.string().trim().min(1).max(500) }).strict(),
]);
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
    sensor_id: c.sensorId ?? null,
    ...(c.segment && { segment: { name: c.segment.name, geometry: { type: 'LineString' as const, coordinates: c.segment.path } } }),
    reason: c.reason,
    since: formatTime(c.since),
    set_by_city: true as const,
    ...(o.includeBy && { by: c.by }),
    lifted_at: c.liftedAt === undefined ? null : formatTime(c.liftedAt),
  };
}

/** Words for a closure in both languages, for maps, feeds and messages. */
export const CLOSURE_LABEL = { ja: '通行止め（市が設定）', en: 'Road closed (set by the city)' } as const;
