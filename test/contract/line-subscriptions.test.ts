import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLineSubscriptions } from '../../services/storage/memory-line-subscriptions.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteLineSubscriptions } from '../../services/storage/sqlite-line-subscriptions.ts';
import type { SqliteDatabase } from '../../services/storage/sqlite.ts';
import { describeLineSubscriptionsContract } from './line-subscriptions.contract.ts';

describeLineSubscriptionsContract({
  name: 'memory',
  durable: false,
  open: () => ({ repo: createMemoryLineSubscriptions(), close: () => {} }),
});

describeLineSubscriptionsContract({
  name: 'sqlite',
  durable: true,
  open: () => {
    const dir = mkdtempSync(join(tmpdir(), 'kansui-line-'));
    const dbs: SqliteDatabase[] = [openMetadataDatabase(dir)];
    return {
      repo: createSqliteLineSubscriptions(dbs[0] as SqliteDatabase),
      reopen: () => {
        const db = openMetadataDatabase(dir);
        dbs.push(db);
        return createSqliteLineSubscriptions(db);
      },
      close: () => {
        for (const db of dbs) db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
