import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteAlerts as createAlertStore, openAlertsConnection } from '../../services/storage/sqlite-alerts.ts';
import type { Alert } from '../../services/core/alerts/alert.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import type { SqliteDatabase } from '../../services/storage/sqlite.ts';
import { describeSensorRegistryContract } from './sensor-registry.contract.ts';

describeSensorRegistryContract({ name: 'memory', open: () => ({ registry: createMemorySensorRegistry(), close: () => {} }) });

function openSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'kansui-registry-'));
  const dbs: SqliteDatabase[] = [openMetadataDatabase(dir)];
  const db = dbs[0] as SqliteDatabase;
  return {
    db,
    registry: createSqliteSensorRegistry(db),
    reopen: () => {
      const other = openMetadataDatabase(dir);
      dbs.push(other);
      return createSqliteSensorRegistry(other);
    },
    close: () => {
      for (const d of dbs) d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeSensorRegistryContract({ name: 'sqlite', open: openSqlite });

describe('SQLite registry and the rest of kansui.db (issue 16)', () => {
  it('an alert commit on the alerts connection does not make the registry reload', () => {
    const opened = openSqlite();
    try {
      const { db, registry } = opened;
      registry.create(createSensor({ id: 's-1', name: 's', lat: 0, lon: 0 }, 1), { passwordHash: 'h' });
      const before = registry.list();
      const alerts = createAlertStore(openAlertsConnection(db));
      const alert: Alert = {
        id: 'al_1', sensorId: 's-1', kind: 'flood', severity: 'warning', peakSeverity: 'warning', cause: 'level', state: 'raised', rising: true,
        levelCm: 22, observedAt: 2, batteryV: undefined, raisedAt: 2, updatedAt: 2,
        acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined,
      };
      alerts.insert(alert, { type: 'raised', at: 2, severity: 'warning', levelCm: 22, actor: undefined, note: undefined });
      alerts.update({ ...alert, state: 'resolved', resolvedAt: 3, resolvedReason: 'level_normal' }, { type: 'resolved', at: 3, severity: 'warning', levelCm: 5, actor: undefined, note: undefined });
      // The commit is visible to this connection (so data_version moved) …
      expect((db.prepare('SELECT COUNT(*) FROM alerts').pluck().get() as number)).toBe(1);
      // … but the sensors did not change: no reload, the same objects.
      expect(registry.refresh()).toBe(false);
      expect(registry.list()[0]).toBe(before[0]);
    } finally {
      opened.close();
    }
  });
});
