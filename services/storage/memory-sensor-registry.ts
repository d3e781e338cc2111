import { createError } from '../core/errors.ts';
import type { SensorCredential, SensorRegistry } from '../core/ports.ts';
import { SensorSchema, type Sensor } from '../core/sensor.ts';

/**
 * In-memory SensorRegistry (tests, tools). Passes the same contract as the
 * SQLite adapter (test/contract/sensor-registry.contract.ts): list sorted by
 * id, conflict on a second create, not_found on an unknown id.
 */
export function createMemorySensorRegistry(): SensorRegistry {
  const sensors = new Map<string, Sensor>();
  const credentials = new Map<string, SensorCredential>();
  return {
    list: () => [...sensors.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    get: (id) => sensors.get(id),
    create(sensor, credential) {
      if (sensors.has(sensor.id)) throw createError('conflict', `sensor ${sensor.id} already exists`);
      sensors.set(sensor.id, sensor);
      credentials.set(sensor.id, { passwordHash: credential.passwordHash });
    },
    update(id, patch) {
      const current = sensors.get(id);
      if (!current) throw createError('not_found', `unknown sensor ${id}`);
      const next = SensorSchema.parse({ ...current, ...patch, id, createdAt: current.createdAt });
      sensors.set(id, next);
      return next;
    },
    setCredential(id, credential) {
      if (!sensors.has(id)) throw createError('not_found', `unknown sensor ${id}`);
      if (credential) credentials.set(id, { passwordHash: credential.passwordHash });
      else credentials.delete(id);
    },
    getCredential: (id) => credentials.get(id),
    // Nothing else can change this process's memory.
    refresh: () => false,
  };
}
