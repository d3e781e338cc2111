import type { Reading } from '../core/reading.ts';
import type { RangePoint, ReadingStore } from '../core/ports.ts';

/** In-memory ReadingStore for tests and the contract suite's reference. Not durable. */
export function createMemoryReadingStore(): ReadingStore {
  const bySensor = new Map<string, Map<number, Reading>>();
  return {
    kind: 'memory',
    async write(readings) {
      let written = 0;
      for (const r of readings) {
        let rows = bySensor.get(r.sensorId);
        if (!rows) bySensor.set(r.sensorId, (rows = new Map()));
        if (!rows.has(r.observedAt)) {
          rows.set(r.observedAt, { ...r });
          written++;
        }
      }
      return { written, duplicates: readings.length - written };
    },
    async range(q) {
      const rows = [...(bySensor.get(q.sensorId)?.values() ?? [])]
        .filter((r) => r.observedAt >= q.from && r.observedAt <= q.to)
        .sort((a, b) => a.observedAt - b.observedAt);
      let points: RangePoint[];
      if (q.bucketMs) {
        const size = q.bucketMs;
        const buckets = new Map<number, number>();
        for (const r of rows) {
          const start = r.observedAt - (((r.observedAt % size) + size) % size);
          buckets.set(start, Math.max(buckets.get(start) ?? -Infinity, r.levelCm));
        }
        points = [...buckets].map(([observedAt, levelCm]) => ({ observedAt, levelCm }));
      } else {
        points = rows.map((r) => ({ observedAt: r.observedAt, levelCm: r.levelCm }));
      }
      return points.slice(0, q.limit ?? points.length);
    },
    async latest() {
      const out = new Map<string, Reading>();
      for (const [id, rows] of bySensor) {
        let newest: Reading | undefined;
        for (const r of rows.values()) if (!newest || r.observedAt > newest.observedAt) newest = r;
        if (newest) out.set(id, { ...newest });
      }
      return out;
    },
    async healthy() {
      return true;
    },
    async close() {},
  };
}
