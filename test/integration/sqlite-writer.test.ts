import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteReadingStore } from '../../services/storage/sqlite-reading-store.ts';
import { makeTempDir } from '../helpers/kansui.ts';

describe('SQLite store writer thread', () => {
  const temp = makeTempDir();
  afterAll(() => temp.remove());

  it('a write resolves once committed, is readable at once from the main connection, and a closed store refuses writes instead of hanging', async () => {
    const store = createSqliteReadingStore({ dataDir: temp.dir });
    const t = 1_800_000_000_000;
    const rows = Array.from({ length: 2000 }, (_, i) => ({ sensorId: `s${i % 10}`, observedAt: t + i, levelCm: i / 100 }));
    const [a, b] = await Promise.all([store.write(rows.slice(0, 1000)), store.write(rows.slice(500))]);
    expect(a).toEqual({ written: 1000, duplicates: 0 });
    expect(b).toEqual({ written: 1000, duplicates: 500 });
    expect(await store.range({ sensorId: 's3', from: t, to: t + 5000 })).toHaveLength(200);
    expect(await store.healthy()).toBe(true);
    await store.close();
    await store.close(); // idempotent
    await expect(store.write(rows.slice(0, 1))).rejects.toThrow(/closed|exited/);
    expect(await store.healthy()).toBe(false);
  });
});
