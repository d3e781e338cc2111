import type { Reading, RejectReason } from '../core/reading.ts';
import type { ReadingStore } from '../core/ports.ts';
import type { Ingest } from '../ingest/create-ingest.ts';

const HOUR_MS = 3600_000;

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
  const recent = new Map<string, Set<number>>();
  const rejected = new Map<string, Map<RejectReason, number>>();
  const lastRejected = new Map<string, SensorHealth['lastRejected']>();
  /** Raw distance from a refused reading (not calibrated yet / blind zone), for "set zero now". */
  const lastRawDistance = new Map<string, { distanceMm: number; observedAt: number }>();
  const seeded = new Set<string>();

  ingest.on('reading', (r: Reading) => {
    let set = recent.get(r.sensorId);
    if (!set) recent.set(r.sensorId, (set = new Set()));
    set.add(r.observedAt);
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
    const set = recent.get(id);
    if (!set) return 0;
    for (const at of set) if (at < t - HOUR_MS) set.delete(at);
    return set.size;
  }

  return {
    async seed(ids: readonly string[]): Promise<void> {
      const t = now();
      for (const id of ids) {
        if (seeded.has(id)) continue;
        seeded.add(id);
        const points = await store.range({ sensorId: id, from: t - HOUR_MS, to: t, limit: 10_000 });
        let set = recent.get(id);
        if (!set) recent.set(id, (set = new Set()));
        for (const p of points) set.add(p.observedAt);
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
