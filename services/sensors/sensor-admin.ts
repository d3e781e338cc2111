import type { AuditLog, AuditRecord } from '../audit/audit-log.ts';
import { createError } from '../core/errors.ts';
import type { SensorRegistry } from '../core/ports.ts';
import type { CalibrationStore } from './calibration-store.ts';
import type { CredentialSink } from './credential-sink.ts';
import { registerSensor, rotateSensorCredentials, type MqttCredentials, type ProvisionedSensor } from './provision.ts';

/** Who asks for a change, and over which request (the console) or none (the CLI). */
export interface ChangeBy {
  actor: AuditRecord['actor'];
  /** The HTTP request answering, so the app-wide audit middleware adds no generic entry. */
  request?: Request;
  address?: string | null;
}

export interface SensorAdminDeps {
  registry: SensorRegistry;
  calibrations: CalibrationStore;
  audit: AuditLog;
  /** Where issued credentials must also go (an external Mosquitto); refuses ids the broker keeps. */
  sink: CredentialSink;
  now: () => number;
}

/**
 * The application functions for sensor administration (issue 16): the
 * console's routes and the `kansui` CLI both go through these, so a sensor
 * registered either way gets the same checks, its first calibration version
 * and an audit entry.
 */
export function createSensorAdmin(deps: SensorAdminDeps) {
  const setBy = (by: ChangeBy) => (by.actor === 'cli' ? 'cli' : by.actor.username);
  function audit(by: ChangeBy, r: Omit<AuditRecord, 'actor' | 'address'>): void {
    const record: AuditRecord = { ...r, actor: by.actor, address: by.address ?? null };
    if (by.request) deps.audit.recordFor(by.request, record);
    else deps.audit.record(record);
  }
  return {
    /** Register with MQTT credentials (shown once), record calibration version 1 when it has one, audit. */
    async register(input: unknown, by: ChangeBy): Promise<ProvisionedSensor> {
      const id = (input as { id?: unknown } | null)?.id;
      // An id the broker keeps for itself (its admin, the ingest) is refused before anything is written (issue 15).
      const refused = typeof id === 'string' ? deps.sink.refuses?.(id) : undefined;
      if (refused) throw createError('conflict', refused, { param: 'id' });
      const provisioned = registerSensor(deps.registry, input, deps.now());
      const { sensor, mqtt } = provisioned;
      await deps.sink.issued(sensor.id, mqtt.password);
      if (sensor.mountHeightMm !== undefined || sensor.minRangeMm !== undefined) {
        deps.calibrations.record(sensor, 'registered', sensor.createdAt, setBy(by));
      }
      audit(by, { action: 'sensor.create', targetType: 'sensor', targetId: sensor.id, after: sensor });
      return provisioned;
    },
    /** A new MQTT password; the old one stops working at the next CONNECT, live sessions are cut by the sink. */
    async rotate(sensorId: string, by: ChangeBy): Promise<MqttCredentials> {
      const mqtt = rotateSensorCredentials(deps.registry, sensorId);
      await deps.sink.issued(sensorId, mqtt.password);
      audit(by, { action: 'sensor.credentials.rotate', targetType: 'sensor', targetId: sensorId });
      return mqtt;
    },
  };
}
export type SensorAdmin = ReturnType<typeof createSensorAdmin>;
