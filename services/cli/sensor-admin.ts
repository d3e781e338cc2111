import { createAuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config.ts';
import { createCalibrationStore } from '../sensors/calibration-store.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';
import { createSensorAdmin, type SensorAdmin } from '../sensors/sensor-admin.ts';
import type { SqliteDatabase } from '../storage/sqlite.ts';
import { createSqliteAudit } from '../storage/sqlite-audit.ts';
import { createSqliteCalibrations } from '../storage/sqlite-calibrations.ts';
import { createSqliteSensorRegistry } from '../storage/sqlite-sensor-registry.ts';
import { refusedMosquittoLogin, syncMosquittoLogin } from './mosquitto-sync.ts';

/**
 * The CLI's wiring of the sensor application functions (issue 16): the same
 * `createSensorAdmin` the console uses, over the same SQLite adapters, with
 * an external Mosquitto (when configured) as the credential sink. There are
 * no live sessions to cut from here: the embedded broker asks kansui.db at
 * the next CONNECT.
 */
export function createCliSensorAdmin(config: Config, db: SqliteDatabase, now: () => number = Date.now): SensorAdmin {
  const sink: CredentialSink = {
    issued: (id, password) => syncMosquittoLogin(config, id, password),
    revoked: (id) => syncMosquittoLogin(config, id, undefined),
    disconnect: async () => {},
    refuses: (id) => refusedMosquittoLogin(config, id),
  };
  return createSensorAdmin({
    registry: createSqliteSensorRegistry(db),
    calibrations: createCalibrationStore(createSqliteCalibrations(db)),
    audit: createAuditLog(createSqliteAudit(db), now),
    sink,
    now,
  });
}
