// A process that opens DATA_DIR/kansui.db the way every role does at start (issue 15: several start at once),
// and checks readings.db's identity (issue 10 #11), after a barrier: it says "ready", waits for the go file, then opens and migrates. Exit 0 when all went well.
import { existsSync } from 'node:fs';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import { createSqliteSessions, createSqliteUsers } from '../../services/storage/sqlite-accounts.ts';
import { createSqliteAudit } from '../../services/storage/sqlite-audit.ts';
import { createSqliteClosures } from '../../services/storage/sqlite-closures.ts';
import { createSqliteAlerts, openAlertsConnection } from '../../services/storage/sqlite-alerts.ts';
import { verifyReadingsStore } from '../../services/storage/readings-identity.ts';

const [dataDir, goFile] = process.argv.slice(2) as [string, string];
process.stdout.write('ready\n');
const deadline = Date.now() + 30_000;
while (!existsSync(goFile)) {
  if (Date.now() > deadline) process.exit(3);
  await new Promise((r) => setTimeout(r, 1));
}
const db = openMetadataDatabase(dataDir);
createSqliteSensorRegistry(db);
createSqliteUsers(db);
createSqliteSessions(db);
createSqliteAudit(db);
createSqliteClosures(db);
const alerts = openAlertsConnection(db);
createSqliteAlerts(alerts);
if (alerts !== db) alerts.close();
// As an ingest worker (a process that writes readings) does before opening the store.
const identity = verifyReadingsStore({ metaDb: db, dataDir, acceptNew: false });
process.stdout.write(`store ${identity.storeId}\n`);
db.close();
