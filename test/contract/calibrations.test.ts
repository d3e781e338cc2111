import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CalibrationRepository, CalibrationVersion } from '../../services/core/calibration.ts';
import { createCalibrationStore } from '../../services/sensors/calibration-store.ts';
import { createMemoryCalibrations } from '../../services/storage/memory-calibrations.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteCalibrations } from '../../services/storage/sqlite-calibrations.ts';
import type { SqliteDatabase } from '../../services/storage/sqlite.ts';

/** One suite, every CalibrationRepository adapter (issue 16; the pattern of closures.test.ts). */
const adapters: { name: string; open: () => { repo: CalibrationRepository; reopen?: () => CalibrationRepository; close: () => void } }[] = [
  { name: 'memory', open: () => ({ repo: createMemoryCalibrations(), close: () => {} }) },
  {
    name: 'sqlite',
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kansui-calibrations-'));
      const dbs: SqliteDatabase[] = [openMetadataDatabase(dir)];
      return {
        repo: createSqliteCalibrations(dbs[0] as SqliteDatabase),
        reopen: () => {
          const db = openMetadataDatabase(dir);
          dbs.push(db);
          return createSqliteCalibrations(db);
        },
        close: () => {
          for (const db of dbs) db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const entry = (over: Partial<CalibrationVersion> = {}): Omit<CalibrationVersion, 'version'> => ({
  mountHeightMm: 2_000, minRangeMm: 250, source: 'registered', distanceMm: null, validFrom: 1_000, setBy: 'sato', ...over,
});

for (const adapter of adapters) {
  describe(`CalibrationRepository contract: ${adapter.name}`, () => {
    it('numbers versions 1, 2, … per sensor and lists newest first, as stored', () => {
      const { repo, close } = adapter.open();
      try {
        expect(repo.list('s-1')).toEqual([]);
        expect(repo.append('s-1', entry())).toBe(1);
        expect(repo.append('s-2', entry({ mountHeightMm: null, minRangeMm: null, setBy: 'cli' }))).toBe(1);
        expect(repo.append('s-1', entry({ source: 'zero', mountHeightMm: 1_850, distanceMm: 1_850.5, validFrom: 5_000 }))).toBe(2);
        expect(repo.append('s-1', entry({ source: 'edited', validFrom: 6_000 }))).toBe(3);
        expect(repo.list('s-1')).toEqual([
          { version: 3, ...entry({ source: 'edited', validFrom: 6_000 }) },
          { version: 2, ...entry({ source: 'zero', mountHeightMm: 1_850, distanceMm: 1_850.5, validFrom: 5_000 }) },
          { version: 1, ...entry() },
        ]);
        expect(repo.list('s-2')).toEqual([{ version: 1, ...entry({ mountHeightMm: null, minRangeMm: null, setBy: 'cli' }) }]);
      } finally {
        close();
      }
    });

    it('a listed version is the caller\'s: changing it does not change the history', () => {
      const { repo, close } = adapter.open();
      try {
        repo.append('s-1', entry());
        (repo.list('s-1')[0] as CalibrationVersion).setBy = 'changed';
        expect(repo.list('s-1')[0]?.setBy).toBe('sato');
      } finally {
        close();
      }
    });

    if (adapter.name === 'sqlite') {
      it('keeps the history for a new connection, which numbers on from it', () => {
        const { repo, reopen, close } = adapter.open();
        try {
          repo.append('s-1', entry());
          const other = reopen!();
          expect(other.list('s-1')).toEqual([{ version: 1, ...entry() }]);
          expect(other.append('s-1', entry({ source: 'edited' }))).toBe(2);
          expect(repo.append('s-1', entry({ source: 'edited' }))).toBe(3);
        } finally {
          close();
        }
      });
    }
  });
}

describe('calibration store over the memory adapter', () => {
  it('records what a sensor has (absent heights as null) with who and from when', () => {
    const store = createCalibrationStore(createMemoryCalibrations());
    expect(store.record({ id: 's-1' }, 'registered', 10, 'cli')).toBe(1);
    expect(store.record({ id: 's-1', mountHeightMm: 1_500, minRangeMm: undefined }, 'zero', 20, 'sato', 1_500)).toBe(2);
    expect(store.list('s-1')).toEqual([
      { version: 2, mountHeightMm: 1_500, minRangeMm: null, source: 'zero', distanceMm: 1_500, validFrom: 20, setBy: 'sato' },
      { version: 1, mountHeightMm: null, minRangeMm: null, source: 'registered', distanceMm: null, validFrom: 10, setBy: 'cli' },
    ]);
  });
});
