import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { verifyReadingsStore } from '../../services/storage/readings-identity.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { spawnTs } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const MAIN = fileURLToPath(new URL('../helpers/open-metadata-main.ts', import.meta.url));

describe('kansui.db opened by several processes at the same moment (issue 15: the roles start together)', () => {
  it('every process migrates a fresh kansui.db without failing, each migration applied once, and readings.db gets one name', async () => {
    const data = makeTempDir('kansui-concurrent-open-');
    const go = join(data.dir, 'go');
    try {
      const children = Array.from({ length: 4 }, () => spawnTs(MAIN, [data.dir, go], {}));
      await waitFor(() => children.every((c) => c.out().includes('ready')), { timeoutMs: 60_000, what: 'every process at the barrier' });
      writeFileSync(go, '');
      const codes = await Promise.all(children.map((c) => c.exited));
      expect(codes.map((code, i) => (code === 0 ? 0 : `${code}: ${children[i]?.err().slice(-600)}`))).toEqual(children.map(() => 0));
      const db = openMetadataDatabase(data.dir);
      const rows = db.prepare('SELECT name, version FROM schema_migrations').all() as { name: string; version: number }[];
      db.close();
      expect(rows.length).toBeGreaterThan(3);
      // readings.db got one name, the one kansui.db records, whoever came first: the next start finds them the same.
      const named = new Set(children.map((c) => /store (\S+)/.exec(c.out())?.[1]));
      expect(named.size).toBe(1);
      const meta = openMetadataDatabase(data.dir);
      const next = verifyReadingsStore({ metaDb: meta, dataDir: data.dir, acceptNew: false });
      meta.close();
      expect(next).toMatchObject({ outcome: 'same', storeId: [...named][0] });
    } finally {
      data.remove();
    }
  }, 90_000);
});
