import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createMemoryAlerts } from '../../services/storage/memory-alerts.ts';
import { createMemoryRecipients } from '../../services/storage/memory-recipients.ts';
import { createSqliteAlerts, openAlertsConnection } from '../../services/storage/sqlite-alerts.ts';
import { createSqliteRecipients } from '../../services/storage/sqlite-recipients.ts';
import type { SqliteDatabase } from '../../services/storage/sqlite.ts';
import { describeAlertsContract } from './alerts.contract.ts';
import { describeRecipientsContract } from './recipients.contract.ts';

/** A DATA_DIR with kansui.db opened as the service opens it: the shared connection and the alerts connection beside it. */
function openSqlite<T>(create: (db: SqliteDatabase) => T) {
  const dir = mkdtempSync(join(tmpdir(), 'kansui-alerts-'));
  const dbs: SqliteDatabase[] = [];
  const open = () => {
    const shared = openMetadataDatabase(dir);
    const alerts = openAlertsConnection(shared);
    dbs.push(alerts, shared);
    return create(alerts);
  };
  return {
    repo: open(),
    reopen: open,
    close: () => {
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeAlertsContract({ name: 'memory', open: () => ({ repo: createMemoryAlerts(), close: () => {} }) });
describeAlertsContract({ name: 'sqlite', open: () => openSqlite(createSqliteAlerts) });
describeRecipientsContract({ name: 'memory', open: () => ({ repo: createMemoryRecipients(), close: () => {} }) });
describeRecipientsContract({ name: 'sqlite', open: () => openSqlite(createSqliteRecipients) });
