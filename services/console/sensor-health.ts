import type { Reading, RejectReason } from '../core/reading.ts';
import type { ReadingStore } from '../core/ports.ts';
import type { Ingest } from '../ingest/create-ingest.ts';

const HOUR_MS = 3600_000;
const MINUTE_MS = 60_000;
const SLOTS = HOUR_MS / MINUTE_MS;

/**
 * Readings per minute for the last hour: 60 counters, so the cost per
 * reading and the memory per sensor stay constant however fast a sensor
 * reports (a set of timestamps grew by every reading: ~100,000 entries per
 * sensor an hour at the pipeline benchmark's rate).
 */
interface MinuteCounts {
  minute: number[];
  count: number[];
}

function createMinuteCounts(): MinuteCounts {
  return { minute: new Array<number>(SLOTS).fill(-1), count: new Array<number>(SLOTS).fill(0) };
}

function addReading(c: MinuteCounts, observedAt: number): void {
  const m = Math.floor(observedAt / MINUTE_MS);
  const i = ((m % SLOTS) + SLOTS) % SLOTS;
  if (c.minute[i] === m) c.count[i] = (c.count[i] as number) + 1;
  else if ((c.minute[i] as number) < m) {
    c.minute[i] = m;
    c.count[i] = 1;
  } // else: older than the hour this slot now holds
}

/** Readings observed in the hour before `t` (to the minute). */
function sumLastHour(c: MinuteCounts, t: number): number {
  const newest = Math.floor(t / MINUTE_MS);
  let n = 0;
  for (let i = 0; i < SLOTS; i++) if ((c.minute[i] as number) > newest - SLOTS) n += c.count[i] as number;
  return n;
}

export interface SensorHealth {
  readingsLastHour: number;
  rejected: Partial<Record<RejectReason, number>>;
  lastRejected: { reason: RejectReason; detail: string; at: number } | null;
}

/**
 * Per-sensor counters for the console (issue 5: readings in the last hour,
 * rejected readings and why), fed by the ingest's events. Counts since the
 * service started; the last hour is seeded from the store on first use so a
 * restart does not show a healthy sensor as silent.
 */
export function createSensorHealth(deps: { ingest: Ingest; store: ReadingStore; now: () => number }) {
  const { ingest, store, now } = deps;
  const recent = new Map<string, MinuteCounts>();
  const rejected = new Map<string, Map<RejectReason, number>>();
  const lastRejected = new Map<string, SensorHealth['lastRejected']>();
  /** Raw distance from a refused reading (not calibrated yet / blind zone), for "set zero now". */
  const lastRawDistance = new Map<string, { distanceMm: number; observedAt: number }>();
  const seeded = new Set<string>();

  ingest.on('reading', (r: Reading) => {
    let counts = recent.get(r.sensorId);
    if (!counts) recent.set(r.sensorId, (counts = createMinuteCounts()));
    addReading(counts, r.observedAt);
  });
  ingest.on('rejected', (reason, detail, sensorId) => {
    if (!sensorId) return;
    let counts = rejected.get(sensorId);
    if (!counts) rejected.set(sensorId, (counts = new Map()));
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const t = now();
    lastRejected.set(sensorId, { reason, detail: detail.slice(0, 200), at: t });
    // The parser reports these as `distance_mm <value>` (services/core/reading.ts).
    const m = (reason === 'not_calibrated' || reason === 'below_min_range') && /^distance_mm (\d+(?:\.\d+)?)$/.exec(detail);
    if (m) lastRawDistance.set(sensorId, { distanceMm: Number(m[1]), observedAt: t });
  });

  function countLastHour(id: string, t: number): number {
    const counts = recent.get(id);
    return counts ? sumLastHour(counts, t) : 0;
  }

  return {
    async seed(ids: readonly string[]): Promise<void> {
      const t = now();
      for (const id of ids) {
        if (seeded.has(id)) continue;
        seeded.add(id);
        const points = await store.range({ sensorId: id, from: t - HOUR_MS, to: t, limit: 10_000 });
        // The store already holds every reading counted live so far, so per
        // minute the larger of the two counts is right (the store's is cut
        // short only when the hour holds more than the query's limit).
        const stored = createMinuteCounts();
        for (const p of points) addReading(stored, p.observedAt);
        const live = recent.get(id);
        if (live) {
          for (let i = 0; i < SLOTS; i++) {
            if (live.minute[i] === stored.minute[i]) stored.count[i] = Math.max(stored.count[i] as number, live.count[i] as number);
            else if ((live.minute[i] as number) > (stored.minute[i] as number)) {
              stored.minute[i] = live.minute[i] as number;
              stored.count[i] = live.count[i] as number;
            }
          }
        }
        recent.set(id, stored);
      }
    },
    get(id: string): SensorHealth {
      return {
        readingsLastHour: countLastHour(id, now()),
        rejected: Object.fromEntries(rejected.get(id) ?? []),
        lastRejected: lastRejected.get(id) ?? null,
      };
    },
    /** The newest distance this sensor measured, accepted or refused. */
    lastDistance(id: string, latest: Reading | undefined): { distanceMm: number; observedAt: number } | undefined {
      const accepted = latest?.distanceMm !== undefined ? { distanceMm: latest.distanceMm, observedAt: latest.observedAt } : undefined;
      const raw = lastRawDistance.get(id);
      if (!accepted) return raw;
      if (!raw) return accepted;
      return raw.observedAt > accepted.observedAt ? raw : accepted;
    },
  };
}
export type SensorHealthTracker = ReturnType<typeof createSensorHealth>;
