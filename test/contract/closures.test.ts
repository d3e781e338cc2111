import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Closure, ClosureRepository } from '../../services/core/closure.ts';
import { createMemoryClosures } from '../../services/storage/memory-closures.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteClosures } from '../../services/storage/sqlite-closures.ts';

/** One suite, every ClosureRepository adapter (issue 13: road closures set by staff). */
const adapters: { name: string; open: () => { repo: ClosureRepository; reopen?: () => ClosureRepository; close: () => void } }[] = [
  { name: 'memory', open: () => ({ repo: createMemoryClosures(), close: () => {} }) },
  {
    name: 'sqlite',
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kansui-closures-'));
      const dbs = [openMetadataDatabase(dir)];
      return {
        repo: createSqliteClosures(dbs[0]!),
        reopen: () => {
          const db = openMetadataDatabase(dir);
          dbs.push(db);
          return createSqliteClosures(db);
        },
        close: () => {
          for (const db of dbs) db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const closure = (id: string, since: number, sensorId = 's-1'): Closure => ({ id, sensorId, segment: undefined, reason: '冠水のため', since, by: 'sato', liftedAt: undefined, liftedBy: undefined });

for (const adapter of adapters) {
  describe(`ClosureRepository contract: ${adapter.name}`, () => {
    it('keeps a closure open until lifted, once; lifted ones stay for reports', () => {
      const { repo, close } = adapter.open();
      try {
        repo.insert(closure('cl_b', 2000));
        repo.insert(closure('cl_a', 1000, 's-2'));
        expect(repo.open().map((c) => c.id)).toEqual(['cl_a', 'cl_b']);
        expect(repo.get('cl_b')).toEqual(closure('cl_b', 2000));
        expect(repo.lift('cl_b', 'suzuki', 5000)).toBe(true);
        expect(repo.lift('cl_b', 'suzuki', 6000)).toBe(false);
        expect(repo.lift('nope', 'suzuki', 6000)).toBe(false);
        expect(repo.open().map((c) => c.id)).toEqual(['cl_a']);
        expect(repo.get('cl_b')).toMatchObject({ liftedAt: 5000, liftedBy: 'suzuki' });
        expect(repo.get('nope')).toBeUndefined();
      } finally {
        close();
      }
    });

    it('keeps a drawn road segment (no sensor) with its name and points', () => {
      const { repo, close } = adapter.open();
      try {
        const seg: Closure = { ...closure('cl_seg', 1500), sensorId: undefined, segment: { name: '県道打田線 打田駅前〜東田中', path: [[135.39, 34.27], [135.4, 34.275], [135.41, 34.28]] } };
        repo.insert(seg);
        expect(repo.get('cl_seg')).toEqual(seg);
        expect(repo.open()).toEqual([seg]);
      } finally {
        close();
      }
    });

    it('finds the closures in force during a period', () => {
      const { repo, close } = adapter.open();
      try {
        repo.insert(closure('cl_1', 1000));
        repo.insert(closure('cl_2', 3000));
        repo.insert(closure('cl_3', 9000));
        repo.lift('cl_1', 'x', 2000);
        expect(repo.overlapping(2500, 8000).map((c) => c.id)).toEqual(['cl_2']);
        expect(repo.overlapping(0, 10_000).map((c) => c.id)).toEqual(['cl_1', 'cl_2', 'cl_3']);
        expect(repo.overlapping(2000, 2000).map((c) => c.id)).toEqual(['cl_1']);
      } finally {
        close();
      }
    });

    if (adapter.name === 'sqlite') {
      it('survives a restart', () => {
        const { repo, reopen, close } = adapter.open();
        try {
          repo.insert(closure('cl_x', 1000));
          expect(reopen!().open().map((c) => c.id)).toEqual(['cl_x']);
        } finally {
          close();
        }
      });
    }
  });
}
