import { EventEmitter } from 'node:events';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import type { Sensor } from '../core/sensor.ts';
import type { Ingest, IngestEvents } from './create-ingest.ts';

export interface ReadingRelay extends Ingest {
  /** Load `latest` from the store; only newer readings replace what the bus brought already. */
  start(): Promise<void>;
  /**
   * A reading another process (an ingest worker, issue 15) has stored: kept as
   * the sensor's latest when it is newer, and emitted as `reading`, as the
   * ingest emits its own. Returns the sensor, or undefined for a sensor this
   * process does not know (the registry is reloaded once to check).
   */
  accept(reading: Reading): Sensor | undefined;
}

/**
 * The ingest's read side for a process that does not take readings itself
 * (core and web roles): the same `latest` map and `reading` events, fed from
 * the bus instead of the broker. `submit` refuses: readings enter through an
 * ingest worker, which stores them before anyone hears of them.
 */
export function createReadingRelay(deps: { store: ReadingStore; registry: SensorRegistry }): ReadingRelay {
  const latest = new Map<string, Reading>();
  const relay = new EventEmitter<IngestEvents>() as ReadingRelay;
  Object.assign(relay, {
    latest,
    // Newer-only, so it can be called again once the bus is heard (what was stored in between is then found too).
    async start() {
      for (const [id, r] of await deps.store.latest()) {
        const prev = latest.get(id);
        if (!prev || r.observedAt > prev.observedAt) latest.set(id, r);
      }
    },
    accept(reading: Reading): Sensor | undefined {
      const sensor = deps.registry.get(reading.sensorId) ?? (deps.registry.refresh() ? deps.registry.get(reading.sensorId) : undefined);
      if (!sensor) return undefined;
      const prev = latest.get(reading.sensorId);
      if (!prev || reading.observedAt >= prev.observedAt) latest.set(reading.sensorId, reading);
      relay.emit('reading', reading, sensor);
      return sensor;
    },
    submit(): Promise<never> {
      return Promise.reject(new Error('this process does not take readings (KANSUI_ROLE): an ingest worker does'));
    },
    reject(reason: IngestEvents['rejected'][0], detail: string, sensorId?: string) {
      relay.emit('rejected', reason, detail, sensorId);
    },
    drain: () => Promise.resolve(),
  });
  return relay;
}
