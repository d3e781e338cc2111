import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS } from './core/reading.ts';

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
  const sseClients = new Gauge({
    name: 'kansui_sse_clients',
    help: 'Connected Server-Sent Events clients',
    registers: [registry],
  });
  const setConnectedSensors = (count: () => number) => {
    countConnected = count;
  };
  return { registry, setConnectedSensors, accepted, duplicates, rejected, connectedSensors, writeLatency, writeErrors, sseClients };
}
export type Metrics = ReturnType<typeof createMetrics>;
