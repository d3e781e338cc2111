import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DomainError } from '../services/core/errors.ts';
import { createAuditLog } from '../services/audit/audit-log.ts';
import { createCalibrationStore } from '../services/sensors/calibration-store.ts';
import { embeddedBrokerSink } from '../services/sensors/credential-sink.ts';
import { createSensorAdmin } from '../services/sensors/sensor-admin.ts';
import { openMetadataDatabase } from '../services/storage/metadata-db.ts';
import { createSqliteAudit } from '../services/storage/sqlite-audit.ts';
import { createSqliteCalibrations } from '../services/storage/sqlite-calibrations.ts';
import { createSqliteSensorRegistry } from '../services/storage/sqlite-sensor-registry.ts';
import type { SimSensor } from './mqtt-session.ts';

/** One line of `kansui sensor add` output (extra fields ignored). */
const CredentialLine = z.object({
  id: z.string().min(1),
  kind: z.enum(['level', 'distance']).optional(),
  mountHeightMm: z.number().positive().optional(),
  mqtt: z.object({ username: z.string().min(1), password: z.string().min(1) }),
});
export type CredentialLine = z.infer<typeof CredentialLine>;

function toSimSensor(line: CredentialLine): SimSensor {
  return {
    id: line.id,
    username: line.mqtt.username,
    password: line.mqtt.password,
    kind: line.kind ?? (line.mountHeightMm !== undefined ? 'distance' : 'level'),
    ...(line.mountHeightMm !== undefined && { mountHeightMm: line.mountHeightMm }),
  };
}

/**
 * Read a credentials file: JSON lines as printed by `kansui sensor add`
 * (`npx kansui sensor add … >> creds.jsonl`). Says which line is bad.
 */
export function readCredentialsFile(path: string): SimSensor[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DomainError('invalid_input', `cannot read credentials file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const sensors: SimSensor[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new DomainError('invalid_input', `${path}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
    const parsed = CredentialLine.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DomainError('invalid_input', `${path}:${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message}`);
    }
    sensors.push(toSimSensor(parsed.data));
  });
  if (sensors.length === 0) throw new DomainError('invalid_input', `${path}: no credentials in file`);
  return sensors;
}

/** Everything `registerSensor` accepts (see services/core/sensor.ts SensorInputSchema). */
export type SensorSpec = Record<string, unknown> & { id: string };

/**
 * Register sensors in a DATA_DIR's metadata database through the same
 * application functions as `kansui sensor add` and the console (issue 16:
 * calibration version 1 and an audit entry by `cli`), for the simulator and
 * the demo. A sensor that already exists gets a fresh password (the old one
 * is only stored hashed), so re-running is safe; its other settings are left
 * as they are. Returns one line per sensor in the `kansui sensor add` output
 * shape. The embedded broker asks kansui.db at each CONNECT, so there is no
 * broker to tell here.
 */
export async function registerSimSensors(dataDir: string, specs: readonly SensorSpec[], now = Date.now()): Promise<CredentialLine[]> {
  const db = openMetadataDatabase(dataDir);
  try {
    const registry = createSqliteSensorRegistry(db);
    const admin = createSensorAdmin({
      registry,
      calibrations: createCalibrationStore(createSqliteCalibrations(db)),
      audit: createAuditLog(createSqliteAudit(db), () => now),
      sink: embeddedBrokerSink(undefined),
      now: () => now,
    });
    const out: CredentialLine[] = [];
    // One transaction for the lot (10,000 sensors in the benches): this connection is ours alone, and the sink awaits nothing.
    db.exec('BEGIN');
    try {
      for (const spec of specs) {
        const existing = registry.get(spec.id);
        if (existing) out.push({ ...existing, mqtt: await admin.rotate(spec.id, { actor: 'cli' }) } as CredentialLine);
        else {
          const { sensor, mqtt } = await admin.register(spec, { actor: 'cli' });
          out.push({ ...sensor, mqtt } as CredentialLine);
        }
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    return out;
  } finally {
    db.close();
  }
}

export { toSimSensor };
