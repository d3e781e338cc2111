import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DomainError } from '../services/core/errors.ts';
import { registerSensor, rotateSensorCredentials } from '../services/sensors/provision.ts';
import { openMetadataDatabase } from '../services/storage/metadata-db.ts';
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
 * Register sensors directly in a DATA_DIR's metadata database (what
 * `kansui sensor add` does), for the simulator and the demo. A sensor that
 * already exists gets a fresh password (the old one is only stored hashed),
 * so re-running is safe; its other settings are left as they are.
 * Returns one line per sensor in the `kansui sensor add` output shape.
 */
export function registerSimSensors(dataDir: string, specs: readonly SensorSpec[], now = Date.now()): CredentialLine[] {
  const db = openMetadataDatabase(dataDir);
  try {
    const registry = createSqliteSensorRegistry(db);
    const out: CredentialLine[] = [];
    const run = db.transaction(() => {
      for (const spec of specs) {
        const existing = registry.get(spec.id);
        if (existing) {
          const mqtt = rotateSensorCredentials(registry, spec.id);
          out.push({ ...existing, mqtt } as CredentialLine);
        } else {
          const { sensor, mqtt } = registerSensor(registry, spec, now);
          out.push({ ...sensor, mqtt } as CredentialLine);
        }
      }
    });
    run();
    return out;
  } finally {
    db.close();
  }
}

export { toSimSensor };
