import { Counter, Gauge, type Registry } from 'prom-client';
import { UPLINK_OUTCOMES, UPLINK_SOURCES, type UplinkOutcome, type UplinkSource } from '../core/uplink.ts';

/**
 * `kansui_integration_uplinks_total{source,outcome}` and the time of the last
 * uplink per integration (issue 11), so a silent integration is noticed:
 * alert on `time() - kansui_integration_last_uplink_timestamp_seconds` (docs/devices.md).
 */
export function createIntegrationMetrics(registry: Registry) {
  const uplinks = new Counter({
    name: 'kansui_integration_uplinks_total',
    help: 'Uplinks and messages from LoRaWAN network servers, by integration and outcome',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  });
  const last = new Gauge({
    name: 'kansui_integration_last_uplink_timestamp_seconds',
    help: 'Unix time of the last message from each LoRaWAN network-server integration (0: none since start)',
    labelNames: ['source'],
    registers: [registry],
  });
  const lastAt = new Map<UplinkSource, number>();
  return {
    /** Pre-create the series of the integrations that are configured, at 0. */
    enable(source: UplinkSource) {
      for (const outcome of UPLINK_OUTCOMES) uplinks.inc({ source, outcome }, 0);
      last.set({ source }, 0);
    },
    record(source: UplinkSource, outcome: UplinkOutcome, at: number) {
      uplinks.inc({ source, outcome });
      last.set({ source }, at / 1000);
      lastAt.set(source, at);
    },
    /** Per integration: last message time (epoch ms) and counts by outcome, for the console. */
    async snapshot(): Promise<{ source: UplinkSource; lastAt: number | null; counts: Partial<Record<UplinkOutcome, number>> }[]> {
      const values = (await uplinks.get()).values;
      const seen = new Set<UplinkSource>([...lastAt.keys(), ...values.map((v) => v.labels.source as UplinkSource)]);
      return UPLINK_SOURCES.filter((s) => seen.has(s)).map((source) => ({
        source,
        lastAt: lastAt.get(source) ?? null,
        counts: Object.fromEntries(values.filter((v) => v.labels.source === source).map((v) => [v.labels.outcome, v.value])),
      }));
    },
  };
}
export type IntegrationMetrics = ReturnType<typeof createIntegrationMetrics>;
