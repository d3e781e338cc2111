import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AlertChannel } from '../core/alerts/channel.ts';
import type { DeliveryLogEntry } from '../core/alerts/repository.ts';

/**
 * Prometheus metrics of the alerting module, registered on the service's
 * registry (/metrics): lifecycle events by kind and severity, delivery
 * attempts by channel and outcome, and how long a delivered notice took.
 */
export function createAlertMetrics(registry: Registry) {
  const events = new Counter({
    name: 'kansui_alert_events_total',
    help: 'Alert lifecycle events (raised, escalated, eased, updated, acknowledged, resolved)',
    labelNames: ['event', 'kind', 'severity'],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'kansui_alert_delivery_attempts_total',
    help: 'Delivery attempts by channel and outcome (ok, retry, failed)',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kansui_alert_delivery_seconds',
    help: 'Duration of one delivery attempt',
    labelNames: ['channel'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let channels: readonly AlertChannel[] = [];
  new Gauge({
    name: 'kansui_alert_prepared',
    help: 'Work done ahead of alerts, by channel (Web Push: encryption keys ready; refilled in the background after a fan-out)',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      for (const c of channels) if (c.preparedCount) this.set({ channel: c.kind }, c.preparedCount());
    },
  });
  let residentCount: () => number = () => 0;
  new Gauge({
    name: 'kansui_push_subscriptions',
    help: "Residents' Web Push subscriptions held (capped by PUSH_MAX_SUBSCRIPTIONS)",
    registers: [registry],
    collect() {
      this.set(residentCount());
    },
  });
  const pushRefused = new Counter({
    name: 'kansui_push_subscriptions_refused_total',
    help: 'Push subscriptions refused: endpoint not allowed (target) or the cap reached (cap)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const outboundRefused = new Counter({
    name: 'kansui_alert_outbound_refused_total',
    help: 'Connections an alert channel was refused by the outbound policy, by channel and address class (ALERT_ALLOW_PRIVATE_TARGETS)',
    labelNames: ['channel', 'class'],
    registers: [registry],
  });
  return {
    /** Report the residents' subscription count (set once alerting exists). */
    watchSubscriptions(count: () => number): void {
      residentCount = count;
    },
    onPushRefused(reason: 'target' | 'cap'): void {
      pushRefused.inc({ reason });
    },
    onOutboundRefused(r: { channel: string; class: string }): void {
      outboundRefused.inc({ channel: r.channel, class: r.class });
    },
    /** Report the channels' prepared work (set once the channels exist). */
    watchChannels(list: readonly AlertChannel[]): void {
      channels = list;
    },
    onEvent(event: string, alert: { kind: string; severity: string }): void {
      events.inc({ event, kind: alert.kind, severity: alert.severity });
    },
    onDelivery(d: DeliveryLogEntry): void {
      attempts.inc({ channel: d.channel, outcome: d.ok ? 'ok' : d.final ? 'failed' : 'retry' });
      duration.observe({ channel: d.channel }, d.durationMs / 1000);
    },
  };
}
