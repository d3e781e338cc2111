import type { MqttClient } from 'mqtt';
import type { SensorRegistry } from '../../services/core/ports.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { connectMqtt } from './mqtt.ts';
import { waitFor } from './wait.ts';

export interface SensorLogin {
  id: string;
  password: string;
}

/** Register `count` level sensors `${prefix}-N` straight in a registry and return their MQTT logins. */
export function registerSensors(registry: SensorRegistry, prefix: string, count: number): SensorLogin[] {
  return Array.from({ length: count }, (_, i) => {
    const p = registerSensor(registry, { id: `${prefix}-${i}`, name: `${prefix} ${i}`, lat: 34.27, lon: 135.4 + i / 1000 }, Date.now());
    return { id: p.sensor.id, password: p.mqtt.password };
  });
}

/** Register sensors in DATA_DIR's metadata database before a kansui process starts on it. */
export function registerSensorsInDataDir(dataDir: string, prefix: string, count: number): SensorLogin[] {
  const db = openMetadataDatabase(dataDir);
  try {
    return registerSensors(createSqliteSensorRegistry(db), prefix, count);
  } finally {
    db.close();
  }
}

/** What a publisher has sent and what the broker acknowledged (QoS 1 PUBACK), as "sensor@ts" keys. */
export interface PublishLedger {
  published: Set<string>;
  acked: Set<string>;
  /** Next device timestamp per sensor, so a later publisher continues where one stopped. */
  nextTs: Map<string, number>;
}

export function createLedger(): PublishLedger {
  return { published: new Set(), acked: new Set(), nextTs: new Map() };
}

export interface SteadyPublisher {
  /** Stop publishing. `waitForAcks`: wait (with a deadline) until every outstanding publish is acknowledged. */
  stop(options?: { waitForAcks?: boolean }): Promise<void>;
  outstanding(): number;
}

/**
 * One mqtt.js client per sensor publishing QoS 1 readings at a steady total
 * rate, each with a unique device timestamp (1 ms apart per sensor, starting
 * a minute in the past so they stay inside the accepted window). Every
 * publish is recorded in the ledger, and again as acked when its PUBACK comes.
 */
export async function startSteadyPublisher(options: {
  url: string;
  sensors: SensorLogin[];
  ratePerSecond: number;
  ledger: PublishLedger;
}): Promise<SteadyPublisher> {
  const { ledger, sensors } = options;
  const clients: MqttClient[] = [];
  for (const s of sensors) clients.push(await connectMqtt(options.url, { username: s.id, password: s.password, clientId: `${s.id}/pub-${Date.now()}` }));
  const base = Date.now() - 60_000;
  for (const s of sensors) if (!ledger.nextTs.has(s.id)) ledger.nextTs.set(s.id, base);
  let outstanding = 0;
  const tickMs = 10;
  // Fractional credit so low rates still publish evenly.
  let credit = 0;
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(() => {
    credit = (options.ratePerSecond * (Date.now() - started)) / 1000 - sent;
    while (credit >= 1) {
      const i = sent % sensors.length;
      const sensor = sensors[i] as SensorLogin;
      const client = clients[i] as MqttClient;
      credit--;
      sent++;
      if (!client.connected) continue;
      const ts = ledger.nextTs.get(sensor.id) as number;
      ledger.nextTs.set(sensor.id, ts + 1);
      const key = `${sensor.id}@${ts}`;
      ledger.published.add(key);
      outstanding++;
      client.publishAsync(`flood/${sensor.id}/reading`, JSON.stringify({ ts, level_cm: ts % 97 }), { qos: 1 }).then(
        () => {
          outstanding--;
          ledger.acked.add(key);
        },
        () => {
          outstanding--;
        },
      );
    }
  }, tickMs);
  return {
    outstanding: () => outstanding,
    async stop({ waitForAcks = true } = {}) {
      clearInterval(timer);
      if (waitForAcks) await waitFor(() => outstanding === 0, { timeoutMs: 20_000, what: 'outstanding PUBACKs' });
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    },
  };
}
