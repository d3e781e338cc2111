import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoreStats } from './core/ports.ts';
import { REJECT_REASONS } from './core/reading.ts';
import { CONNECTION_REFUSALS } from './broker/sensor-connections.ts';

/**
 * Prometheus metrics (text exposition format at /metrics). Names follow
 * Prometheus naming practice: `_total` counters, base units (seconds).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kansui_process_' });
  const accepted = new Counter({
    name: 'kansui_readings_accepted_total',
    help: 'Readings validated and durably stored',
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'kansui_readings_duplicate_total',
    help: 'Readings already stored (same sensor and ts), stored once',
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'kansui_readings_rejected_total',
    help: 'Readings refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  const mqttRefused = new Counter({
    name: 'kansui_mqtt_connections_refused_total',
    help: 'Embedded-broker connections refused or dropped before doing anything, by reason (issue 10)',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of CONNECTION_REFUSALS) mqttRefused.inc({ reason }, 0);
  let countConnected = () => 0;
  const connectedSensors = new Gauge({
    name: 'kansui_connected_sensors',
    help: 'Sensors connected to the embedded broker (1/0 for the ingest link with an external broker)',
    registers: [registry],
    collect() {
      this.set(countConnected());
    },
  });
  const writeLatency = new Histogram({
    name: 'kansui_store_write_seconds',
    help: 'Duration of one group-committed store write',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const writeErrors = new Counter({
    name: 'kansui_store_write_errors_total',
    help: 'Store writes that failed (readings not acknowledged)',
    registers: [registry],
  });
  const writerRestarts = new Counter({
    name: 'kansui_store_writer_restarts_total',
    help: 'Times the SQLite writer thread died and was started again (issue 10 #14); one death past SQLITE_WRITER_MAX_RESTARTS per window ends the process',
    registers: [registry],
  });
  const sseClients = new Gauge({
    name: 'kansui_sse_clients',
    help: 'Connected Server-Sent Events clients',
    registers: [registry],
  });
  const setConnectedSensors = (count: () => number) => {
    countConnected = count;
  };
  // Store spool and errors (InfluxDB adapter, issue 3), read from store.stats() at scrape time.
  let readStoreStats: () => StoreStats | undefined = () => undefined;
  const storeSpooled = new Gauge({
    name: 'kansui_store_spool_readings',
    help: 'Readings durable in the local spool, not yet in the database',
    registers: [registry],
    collect() {
      this.set(readStoreStats()?.spooled ?? 0);
    },
  });
  const storeSpoolAge = new Gauge({
    name: 'kansui_store_spool_oldest_age_seconds',
    help: 'How long the oldest spooled reading has been waiting for the database',
    registers: [registry],
    collect() {
      this.set((readStoreStats()?.oldestSpooledAgeMs ?? 0) / 1000);
    },
  });
  // Counters mirrored from the store's cumulative totals: increment by what grew since the last scrape.
  const seenErrors = new Map<string, number>();
  const storeBackendErrors = new Counter({
    name: 'kansui_store_backend_write_errors_total',
    help: 'Failed write requests from the store to its database, by kind (timeout, network, server, throttled, auth, not_found, bad_line, other)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const [kind, total] of Object.entries(readStoreStats()?.writeErrors ?? {})) {
        const grew = total - (seenErrors.get(kind) ?? 0);
        if (grew > 0) this.inc({ kind }, grew);
        else if (!seenErrors.has(kind)) this.inc({ kind }, 0);
        seenErrors.set(kind, total);
      }
    },
  });
  let seenQuarantined = 0;
  const storeQuarantined = new Counter({
    name: 'kansui_store_quarantined_total',
    help: 'Readings the database refused one by one, kept in the quarantine table',
    registers: [registry],
    collect() {
      const total = readStoreStats()?.quarantined ?? 0;
      if (total > seenQuarantined) this.inc(total - seenQuarantined);
      seenQuarantined = Math.max(seenQuarantined, total);
    },
  });
  const setStoreStats = (read: () => StoreStats | undefined) => {
    readStoreStats = read;
  };
  return { registry, setConnectedSensors, setStoreStats, storeSpooled, storeSpoolAge, storeBackendErrors, storeQuarantined, accepted, duplicates, rejected, mqttRefused, connectedSensors, writeLatency, writeErrors, writerRestarts, sseClients };
}
export type Metrics = ReturnType<typeof createMetrics>;
