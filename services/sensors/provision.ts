import { createError } from '../core/errors.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { createSensor, type Sensor } from '../core/sensor.ts';
import { generateSensorPassword, hashSecret } from '../storage/secrets.ts';

export interface MqttCredentials {
  username: string;
  /** Shown once; only its hash is stored. */
  password: string;
}

export interface ProvisionedSensor {
  sensor: Sensor;
  mqtt: MqttCredentials;
}

/**
 * Register a sensor and issue its MQTT credentials (username = sensor id).
 * Used by the CLI, the API and the console alike.
 */
export function registerSensor(registry: SensorRegistry, input: unknown, now: number): ProvisionedSensor {
  const sensor = createSensor(input, now);
  // A DevEUI names one device (EUI-64): two sensors with it would split its uplinks (issue 11).
  if (sensor.devEui !== undefined) {
    registry.refresh();
    const holder = registry.list().find((s) => s.devEui?.toUpperCase() === sensor.devEui);
    if (holder) throw createError('conflict', `dev_eui ${sensor.devEui} is already registered to sensor ${holder.id}`, { param: 'devEui' });
  }
  const password = generateSensorPassword();
  registry.create(sensor, { passwordHash: hashSecret(password) });
  return { sensor, mqtt: { username: sensor.id, password } };
}

/** Issue a new password; the old one stops working at the next CONNECT (disconnect live sessions separately). */
export function rotateSensorCredentials(registry: SensorRegistry, sensorId: string): MqttCredentials {
  const password = generateSensorPassword();
  registry.setCredential(sensorId, { passwordHash: hashSecret(password) });
  return { username: sensorId, password };
}
