import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanCounterRepository } from '../../services/core/plan-indicators.ts';
import { createMemoryPlanCounters } from '../../services/storage/memory-plan-counters.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqlitePlanCounters } from '../../services/storage/sqlite-plan-counters.ts';

/** One suite, every PlanCounterRepository adapter (issue 13: plan indicators). */
const adapters: { name: string; open: () => { repo: PlanCounterRepository; close: () => void } }[] = [
  { name: 'memory', open: () => ({ repo: createMemoryPlanCounters(), close: () => {} }) },
  {
    name: 'sqlite',
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kansui-plan-'));
      const db = openMetadataDatabase(dir);
      return { repo: createSqlitePlanCounters(db), close: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
];

for (const adapter of adapters) {
  describe(`PlanCounterRepository contract: ${adapter.name}`, () => {
    it('adds views, sets levels, reads a range by day', () => {
      const { repo, close } = adapter.open();
      try {
        repo.add('2026-07-01', 'map_views', 3);
        repo.add('2026-07-01', 'map_views', 2);
        repo.set('2026-07-01', 'subscribers_line', 10);
        repo.set('2026-07-01', 'subscribers_line', 12);
        repo.add('2026-07-03', 'map_views', 1);
        expect(repo.range('2026-07-01', '2026-07-02')).toEqual([
          { day: '2026-07-01', metric: 'map_views', value: 5 },
          { day: '2026-07-01', metric: 'subscribers_line', value: 12 },
        ]);
        expect(repo.range('2026-07-02', '2026-07-31')).toEqual([{ day: '2026-07-03', metric: 'map_views', value: 1 }]);
      } finally {
        close();
      }
    });
  });
}
