import type { Closure, ClosureRepository } from '../core/closure.ts';

/** Road closures in memory (tests); same contract as the SQLite adapter. */
export function createMemoryClosures(): ClosureRepository {
  const rows = new Map<string, Closure>();
  const sorted = (list: Closure[]) => list.sort((a, b) => a.since - b.since || (a.id < b.id ? -1 : 1));
  return {
    insert(c) {
      if (rows.has(c.id)) throw new Error(`closure ${c.id} exists`);
      rows.set(c.id, { ...c });
    },
    lift(id, by, at) {
      const c = rows.get(id);
      if (!c || c.liftedAt !== undefined) return false;
      rows.set(id, { ...c, liftedAt: at, liftedBy: by });
      return true;
    },
    get(id) {
      const c = rows.get(id);
      return c && { ...c };
    },
    open() {
      return sorted([...rows.values()].filter((c) => c.liftedAt === undefined).map((c) => ({ ...c })));
    },
    overlapping(from, to) {
      return sorted([...rows.values()].filter((c) => c.since <= to && (c.liftedAt === undefined || c.liftedAt >= from)).map((c) => ({ ...c })));
    },
  };
}
