import type { Alert } from '../core/alerts/alert.ts';
import type { AlertSettings } from '../core/alerts/policy.ts';
import type { AlertEventRow, AlertRepository, DeliveryLogEntry } from '../core/alerts/repository.ts';
import { createError } from '../core/errors.ts';

/**
 * Alerts, timelines, delivery log and alert settings in memory (tests: alert
 * rules without a database). Same contract as the SQLite adapter
 * (test/contract/alerts.contract.ts): one unresolved alert per sensor and
 * kind, copies in and out, deliveries visible once flushed or listed.
 */
export function createMemoryAlerts(): AlertRepository {
  const alerts = new Map<string, Alert>();
  /** Insertion order, for ties in ordering (the SQLite adapter orders ties by id). */
  const timelines = new Map<string, AlertEventRow[]>();
  const deliveries: DeliveryLogEntry[] = [];
  const settings = new Map<string, AlertSettings>();
  let closed = false;
  const byRaisedThenId = (a: Alert, b: Alert) => a.raisedAt - b.raisedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const copyAlert = (a: Alert): Alert => ({ ...a });

  return {
    insert(alert, event) {
      const clash = [...alerts.values()].some((a) => a.id === alert.id || (a.sensorId === alert.sensorId && a.kind === alert.kind && a.state !== 'resolved' && alert.state !== 'resolved'));
      if (clash) throw createError('conflict', `alert ${alert.id}: the id is taken or ${alert.sensorId} already has an unresolved ${alert.kind} alert`);
      alerts.set(alert.id, copyAlert(alert));
      timelines.set(alert.id, [clean({ ...event })]);
    },
    update(alert, event) {
      if (!alerts.has(alert.id)) return; // as an UPDATE of no row
      alerts.set(alert.id, copyAlert(alert));
      if (event) timelines.get(alert.id)?.push(clean({ ...event }));
    },
    get: (id) => {
      const a = alerts.get(id);
      return a && copyAlert(a);
    },
    active: () => [...alerts.values()].filter((a) => a.state !== 'resolved').sort(byRaisedThenId).map(copyAlert),
    list(q) {
      return [...alerts.values()]
        .filter((a) => (!q.active || a.state !== 'resolved') && (!q.sensorId || a.sensorId === q.sensorId) && (q.to === undefined || a.raisedAt <= q.to) && (q.from === undefined || a.resolvedAt === undefined || a.resolvedAt >= q.from))
        .sort((a, b) => byRaisedThenId(b, a))
        .slice(0, q.limit ?? 500)
        .map(copyAlert);
    },
    events: (alertId) => (timelines.get(alertId) ?? []).map((e) => ({ ...e })),
    logDelivery(entry) {
      if (!closed) deliveries.push(clean({ ...entry }));
    },
    flushDeliveries() {},
    deliveries(q) {
      const out: DeliveryLogEntry[] = [];
      for (let i = deliveries.length - 1; i >= 0 && out.length < (q.limit ?? 200); i--) {
        const d = deliveries[i]!;
        if ((q.alertId && d.alertId !== q.alertId) || (q.failedOnly && d.ok)) continue;
        out.push({ ...d });
      }
      return out;
    },
    settings: (sensorId) => {
      const s = settings.get(sensorId);
      return s && { ...s };
    },
    setSettings(sensorId, s, _now) {
      settings.set(sensorId, clean({ preset: s.preset, standbyCm: s.standbyCm }) as AlertSettings);
    },
    close() {
      closed = true;
    },
  };
}
