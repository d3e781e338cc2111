import { randomBytes } from 'node:crypto';
import {
  acknowledgeAlert,
  classifyChange,
  HEALTH_SEVERITY,
  NOTIFIED_EVENTS,
  planFloodAlert,
  type ActiveAlerts,
  type Alert,
  type AlertCause,
  type AlertEventType,
  type AlertKind,
  type ResolveReason,
} from '../core/alerts/alert.ts';
import { composeNotice, type AlertChannel, type Recipient } from '../core/alerts/channel.ts';
import { inQuietHours, shouldNotify } from '../core/user-notifications.ts';
import { createAlertState, evaluateReading, type SensorAlertState } from '../core/alerts/engine.ts';
import {
  DEFAULT_ALERT_POLICY,
  DEFAULT_ALERT_SETTINGS,
  maxLevel,
  rankLevel,
  type AlertPolicy,
  type AlertSettings,
  type AlertSeverity,
  type FloodLevel,
} from '../core/alerts/policy.ts';
import { createError } from '../core/errors.ts';
import type { SensorRegistry } from '../core/ports.ts';
import type { Reading } from '../core/reading.ts';
import type { Sensor } from '../core/sensor.ts';
import { offlineAt } from '../core/status.ts';
import type { AlertRepository, DeliveryLogEntry, RecipientRepository } from '../core/alerts/repository.ts';
import { createDispatcher, type Dispatcher, type RetryPolicy } from './dispatcher.ts';
import { DEFAULT_REMINDER_POLICY, reminderGroups, type ReminderPolicy } from '../core/alerts/reminder.ts';
import { createReminders } from './reminders.ts';
import { alertToJson } from './alert-json.ts';

export interface AlertingOptions {
  /** Issue 12: a sensor's trend (services/core/trend.ts) for the notice's trend line, the one the map shows. */
  trendOf?: (sensor: Sensor) => import('../core/trend.ts').Trend | undefined;
  /** Alerts, timelines, delivery log, settings (issue 16: a port; memory adapter in tests). */
  store: AlertRepository;
  /** Stored recipients and residents' push subscriptions. */
  recipientStore: RecipientRepository;
  registry: SensorRegistry;
  latest: ReadonlyMap<string, Reading>;
  /** SSE hub: `alert` events go out through it. */
  publish: (event: string, data: unknown) => void;
  channels: readonly AlertChannel[];
  /** Recipients from the environment (read-only, not stored). */
  envRecipients?: readonly Recipient[];
  policy?: AlertPolicy;
  retry?: Partial<RetryPolicy>;
  timeZone: string;
  /** Public base URL for links in messages. */
  baseUrl?: string;
  now?: () => number;
  /** How often silence is checked for `offline` (ms). */
  sweepMs?: number;
  /**
   * A read-only view of the alerts (a web process, issue 15): no sweep for
   * silence here, because the core runs the one alert runner that raises them.
   */
  passive?: boolean;
  onError?: (err: Error, context: string) => void;
  onSpike?: (sensorId: string, outcome: string, levelCm: number) => void;
  /** Every lifecycle event (metrics). */
  onEvent?: (event: AlertEventType, alert: Alert) => void;
  /** Every delivery attempt, as logged (metrics). */
  onDelivery?: (entry: DeliveryLogEntry) => void;
  /** Reminders of unacknowledged alerts (issue 13; ALERT_REMIND_S …). Default: 危険 every 600 s. */
  reminders?: ReminderPolicy;
  /** A staff member's own Web Push subscription is gone (404/410): their preferences should forget it. */
  onUserPushGone?: (recipient: Recipient) => void;
}

function newAlertId(now: number): string {
  return `al_${now.toString(36)}${randomBytes(5).toString('hex')}`;
}

/**
 * The alert runner: turns ingest readings and silence into alert lifecycle
 * changes (persisted), `alert` SSE events, and notices to every matching
 * recipient through the dispatcher.
 */
export function createAlerting(options: AlertingOptions) {
  const now = options.now ?? Date.now;
  const policy = options.policy ?? DEFAULT_ALERT_POLICY;
  const store = options.store;
  const recipientStore = options.recipientStore;
  const states = new Map<string, SensorAlertState>();
  const active = new Map<string, Map<AlertKind, Alert>>();
  const recipients = new Map<string, Recipient>();
  for (const r of options.envRecipients ?? []) recipients.set(r.id, r);
  for (const r of recipientStore.list()) recipients.set(r.id, r);
  /** Residents' push subscriptions held (PUSH_MAX_SUBSCRIPTIONS caps new ones; kansui_push_subscriptions). */
  let residents = 0;
  for (const r of recipients.values()) if (r.source === 'resident') residents++;
  for (const a of store.active()) activeOf(a.sensorId).set(a.kind, a);

  const dispatcher: Dispatcher = createDispatcher({
    channels: options.channels,
    log: (e) => {
      store.logDelivery(e);
      options.onDelivery?.(e);
    },
    ...(options.retry && { retry: options.retry }),
    now,
    onGone: (r) => {
      // Web Push 404/410: the browser dropped the subscription; stop sending to it.
      if (r.channel === 'webpush' && r.source === 'resident') removeRecipient(r.id);
      if (r.channel === 'webpush' && r.source === 'user') options.onUserPushGone?.(r);
    },
  });

  for (const c of options.channels) c.prepare?.([...recipients.values()]);

  function activeOf(sensorId: string): Map<AlertKind, Alert> {
    let m = active.get(sensorId);
    if (!m) active.set(sensorId, (m = new Map()));
    return m;
  }

  function settingsOf(sensorId: string): AlertSettings {
    return store.settings(sensorId) ?? DEFAULT_ALERT_SETTINGS;
  }

  const reminderPolicy = options.reminders ?? DEFAULT_REMINDER_POLICY;
  /**
   * Reminder n of an unacknowledged alert (issue 13): to the staff who got
   * the alert (never residents: a reminder asks for an acknowledgement) and
   * to the groups added so far, marked as a reminder in every channel.
   */
  function remind(alert: Alert, n: number): void {
    const sensor = options.registry.get(alert.sensorId);
    if (!sensor) return;
    const t = now();
    store.update(alert, { type: 'reminded', at: t, severity: alert.severity, levelCm: alert.levelCm, actor: undefined, note: `reminder ${n}` });
    options.onEvent?.('reminded', alert);
    const settings = settingsOf(alert.sensorId);
    options.publish('alert', { event: 'reminded', reminder: n, ...alertToJson(alert, { timeZone: options.timeZone, settings, includeAck: false }) });
    const notice = composeNotice({ event: 'reminded', alert, sensor, settings, timeZone: options.timeZone, reminder: n, ...(options.baseUrl && { baseUrl: options.baseUrl }) });
    const groups = new Set(reminderGroups(n, reminderPolicy));
    const to: Recipient[] = [];
    for (const r of recipients.values()) {
      if (r.source === 'resident' || !dispatcher.has(r.channel)) continue;
      const inGroup = r.label !== undefined && groups.has(r.label) && r.kinds.includes(alert.kind);
      // The next group hears whatever they follow; their quiet hours still hold below 危険.
      const quiet = r.quietHours !== undefined && alert.severity !== 'danger' && inQuietHours(t, r.quietHours, options.timeZone);
      if (inGroup ? !quiet : shouldNotify(r, alert, sensor, t, options.timeZone)) to.push(r);
    }
    dispatcher.dispatch(notice, to);
  }
  const reminders = createReminders({
    policy: reminderPolicy,
    remind,
    current: (id) => store.get(id),
    now,
    onError: (err) => options.onError?.(err, 'alert reminder'),
  });
  reminders.resume(store.active(), (id) => store.events(id).filter((e) => e.type === 'reminded').length);

  function emit(event: AlertEventType, alert: Alert, sensor: Sensor | undefined): void {
    const settings = settingsOf(alert.sensorId);
    options.onEvent?.(event, alert);
    reminders.onEvent(event, alert);
    options.publish('alert', { event, ...alertToJson(alert, { timeZone: options.timeZone, settings, includeAck: false }) });
    if (!NOTIFIED_EVENTS.has(event) || !sensor) return;
    const notice = composeNotice({
      event,
      alert,
      sensor,
      settings,
      timeZone: options.timeZone,
      ...(options.baseUrl && { baseUrl: options.baseUrl }),
      ...(alert.kind === 'flood' && { trend: options.trendOf?.(sensor) }),
    });
    const to: Recipient[] = [];
    // A 危険 reading during maintenance is for staff to check (issue 12): never a resident's push.
    const staffOnly = alert.kind === 'maintenance_danger';
    for (const r of recipients.values()) if (dispatcher.has(r.channel) && !(staffOnly && r.source === 'resident') && shouldNotify(r, alert, sensor, now(), options.timeZone)) to.push(r);
    dispatcher.dispatch(notice, to);
  }

  function raise(sensor: Sensor, kind: AlertKind, severity: AlertSeverity, cause: AlertCause, rising: boolean, reading: Pick<Reading, 'levelCm' | 'observedAt' | 'batteryV'> | undefined): void {
    const t = now();
    const alert: Alert = {
      id: newAlertId(t),
      sensorId: sensor.id,
      kind,
      severity,
      peakSeverity: severity,
      cause,
      state: 'raised',
      rising,
      levelCm: reading?.levelCm,
      observedAt: reading?.observedAt,
      batteryV: reading?.batteryV,
      raisedAt: t,
      updatedAt: t,
      acknowledgedAt: undefined,
      acknowledgedBy: undefined,
      ackNote: undefined,
      resolvedAt: undefined,
      resolvedReason: undefined,
    };
    store.insert(alert, { type: 'raised', at: t, severity, levelCm: alert.levelCm, actor: undefined, note: cause });
    activeOf(sensor.id).set(kind, alert);
    emit('raised', alert, sensor);
  }

  function resolve(sensor: Sensor | undefined, alert: Alert, reason: ResolveReason, reading?: Reading): void {
    const t = now();
    const done: Alert = {
      ...alert,
      state: 'resolved',
      resolvedAt: t,
      resolvedReason: reason,
      updatedAt: t,
      ...(reading && { levelCm: reading.levelCm, observedAt: reading.observedAt }),
    };
    store.update(done, { type: 'resolved', at: t, severity: done.severity, levelCm: done.levelCm, actor: undefined, note: reason });
    active.get(alert.sensorId)?.delete(alert.kind);
    emit('resolved', done, sensor);
  }

  function changeFlood(sensor: Sensor, alert: Alert, severity: AlertSeverity, cause: AlertCause, rising: boolean, reading: Reading): void {
    const t = now();
    const type = alert.severity === severity ? 'updated' : classifyChange(alert.severity, severity);
    const next: Alert = {
      ...alert,
      severity,
      peakSeverity: maxLevel(alert.peakSeverity, severity) as AlertSeverity,
      cause,
      rising,
      levelCm: reading.levelCm,
      observedAt: reading.observedAt,
      updatedAt: t,
      // Worse than when it was acknowledged: it needs someone's attention again.
      state: type === 'escalated' ? 'raised' : alert.state,
    };
    store.update(next, { type, at: t, severity, levelCm: reading.levelCm, actor: undefined, note: cause });
    activeOf(sensor.id).set('flood', next);
    emit(type, next, sensor);
  }

  function resolveAll(sensor: Sensor, reason: ResolveReason): void {
    for (const a of [...(active.get(sensor.id)?.values() ?? [])]) resolve(sensor, a, reason);
    states.delete(sensor.id);
  }

  /** Maintenance ends every alert of the sensor but the staff one about a 危険 reading during it. */
  function resolveForMaintenance(sensor: Sensor): void {
    for (const a of [...(active.get(sensor.id)?.values() ?? [])]) if (a.kind !== 'maintenance_danger') resolve(sensor, a, 'maintenance');
    states.delete(sensor.id);
  }

  /**
   * Issue 12: a sensor in maintenance raises nothing for residents (the work may
   * wet or move it), but a reading at 危険 still reaches staff as one
   * `maintenance_danger` alert, since the water may be real. It resolves when a
   * reading is below 危険 by the dead band, or when maintenance ends.
   */
  function onMaintenanceReading(reading: Reading, sensor: Sensor): void {
    resolveForMaintenance(sensor);
    if (options.latest.get(sensor.id) !== reading) return; // a late, older reading says nothing about now
    const current = active.get(sensor.id)?.get('maintenance_danger');
    if (reading.levelCm >= sensor.thresholds.danger) {
      if (!current) raise(sensor, 'maintenance_danger', HEALTH_SEVERITY.maintenance_danger, 'level', false, reading);
    } else if (current && reading.levelCm < sensor.thresholds.danger - policy.deadBandCm) {
      resolve(sensor, current, 'level_normal', reading);
    }
  }

  function onReading(reading: Reading, sensor: Sensor): void {
    try {
      if (sensor.state === 'maintenance') return onMaintenanceReading(reading, sensor);
      if (sensor.state !== 'active') {
        if (active.get(sensor.id)?.size) resolveAll(sensor, 'sensor_retired');
        states.delete(sensor.id);
        return;
      }
      const mine = activeOf(sensor.id);
      const offline = mine.get('offline');
      if (offline) resolve(sensor, offline, 'reading_received', reading);
      // A measurement the device stands behind again ends its fault (issue 11).
      const fault = mine.get('sensor_fault');
      if (fault) resolve(sensor, fault, 'sensor_ok', reading);

      const prev = states.get(sensor.id) ?? createAlertState((mine.get('flood')?.severity as FloodLevel | undefined) ?? 'normal');
      const e = evaluateReading(prev, reading, sensor.thresholds, policy);
      states.set(sensor.id, e.state);
      if (e.spike) options.onSpike?.(sensor.id, e.spike, reading.levelCm);
      if (!e.applied && e.spike !== 'held') return;

      const flood = mine.get('flood');
      const cause: AlertCause = e.state.rising && rankLevel(e.state.level) === 0 ? 'rate_of_rise' : 'level';
      const plan = planFloodAlert(flood, e.effective, cause, e.state.rising);
      if (plan?.type === 'raise') raise(sensor, 'flood', plan.severity, plan.cause, e.state.rising, reading);
      else if (plan?.type === 'change' && flood) changeFlood(sensor, flood, plan.severity, plan.cause, plan.rising, reading);
      else if (plan?.type === 'resolve' && flood) resolve(sensor, flood, 'level_normal', reading);

      const battery = mine.get('low_battery');
      if (e.state.lowBattery && !battery) raise(sensor, 'low_battery', HEALTH_SEVERITY.low_battery, 'low_battery', false, reading);
      else if (!e.state.lowBattery && battery) resolve(sensor, battery, 'battery_ok', reading);
    } catch (err) {
      options.onError?.(err as Error, `alert evaluation for ${sensor.id}`);
    }
  }

  /**
   * The device reported that its measurement is not the water: tilted, or no
   * target / no probe (issue 11). One `sensor_fault` alert per episode, for
   * staff; it resolves at the next accepted reading. Never a flood level.
   */
  function onFault(sensor: Sensor, cause: 'tilt' | 'no_target'): void {
    try {
      if (sensor.state !== 'active') return;
      const current = activeOf(sensor.id).get('sensor_fault');
      if (!current) raise(sensor, 'sensor_fault', HEALTH_SEVERITY.sensor_fault, cause, false, undefined);
    } catch (err) {
      options.onError?.(err as Error, `sensor fault for ${sensor.id}`);
    }
  }

  /** Raise `offline` for silent sensors; resolve alerts of sensors put into maintenance or retired. */
  function sweep(): void {
    const t = now();
    for (const sensor of options.registry.list()) {
      try {
        const mine = active.get(sensor.id);
        if (sensor.state === 'maintenance') {
          if (mine?.size) resolveForMaintenance(sensor);
          continue;
        }
        if (sensor.state !== 'active') {
          if (mine?.size) resolveAll(sensor, 'sensor_retired');
          continue;
        }
        const duringMaintenance = mine?.get('maintenance_danger');
        if (duringMaintenance) resolve(sensor, duringMaintenance, 'maintenance_ended');
        const latest = options.latest.get(sensor.id);
        // A sensor that never reported is "not yet installed", not an outage; so is one still being commissioned (issue 12).
        if (!latest || sensor.commissioning || mine?.get('offline')) continue;
        if (t >= offlineAt(latest.observedAt, sensor.intervalS)) raise(sensor, 'offline', HEALTH_SEVERITY.offline, 'offline', false, latest);
      } catch (err) {
        options.onError?.(err as Error, `offline sweep for ${sensor.id}`);
      }
    }
  }

  const sweepTimer = options.passive ? undefined : setInterval(sweep, options.sweepMs ?? 5_000);
  sweepTimer?.unref();

  /** Set by reloadRecipients (another process changed the stored recipients); they are read again when next asked for. */
  let recipientsStale = false;
  function freshenRecipients(): void {
    if (!recipientsStale) return;
    recipientsStale = false;
    for (const [id, r] of recipients) if (r.source !== 'user') recipients.delete(id);
    for (const r of options.envRecipients ?? []) recipients.set(r.id, r);
    for (const r of recipientStore.list()) recipients.set(r.id, r);
    residents = 0;
    for (const r of recipients.values()) if (r.source === 'resident') residents++;
  }

  function removeRecipient(id: string): boolean {
    const r = recipients.get(id);
    if (!r || r.source === 'env') return false;
    recipients.delete(id);
    if (r.source === 'resident') residents--;
    for (const c of options.channels) if (c.kind === r.channel) c.forget?.(r);
    return recipientStore.remove(id);
  }

  return {
    store,
    recipientStore,
    dispatcher,
    channels: options.channels,
    policy,
    onReading,
    onFault,
    sweep,
    /** Active alerts (kind → alert) per sensor, for status badges. */
    activeFor(sensorId: string): ActiveAlerts {
      return Object.fromEntries(active.get(sensorId) ?? []) as ActiveAlerts;
    },
    settingsOf,
    setSettings(sensorId: string, s: AlertSettings): void {
      store.setSettings(sensorId, s, now());
    },
    /** Acknowledge: who, when, note. 404 unknown, 409 resolved or already acknowledged. */
    acknowledge(id: string, by: string, note: string | undefined): Alert {
      const alert = store.get(id);
      if (!alert) throw createError('not_found', `unknown alert ${id}`);
      const r = acknowledgeAlert(alert, by, note, now());
      if (!r.ok) throw createError('conflict', r.reason);
      store.update(r.alert, { type: 'acknowledged', at: r.alert.updatedAt, severity: r.alert.severity, levelCm: r.alert.levelCm, actor: by, note });
      const mine = active.get(alert.sensorId);
      if (mine?.get(alert.kind)?.id === id) mine.set(alert.kind, r.alert);
      emit('acknowledged', r.alert, undefined);
      return r.alert;
    },
    recipients(): Recipient[] {
      freshenRecipients();
      return [...recipients.values()];
    },
    /** How many residents' push subscriptions are held. */
    residentCount: () => {
      freshenRecipients();
      return residents;
    },
    addRecipient(r: Recipient, extra: { unsubscribeHash?: string; client?: string; createdBy?: string }): void {
      recipientStore.add(r, { ...extra, now: now() });
      const replaced = recipients.get(r.id);
      recipients.set(r.id, r);
      if (replaced?.source === 'resident') residents--;
      if (r.source === 'resident') residents++;
      for (const c of options.channels) {
        if (replaced && c.kind === replaced.channel) c.forget?.(replaced); // e.g. a browser renewed its push subscription
        if (c.kind === r.channel) c.prepare?.([r]);
      }
    },
    removeRecipient,
    /**
     * Read the stored recipients again (a web process, issue 15: the core
     * added or removed some). Staff members' own recipients, applied from
     * their preferences, are kept.
     */
    reloadRecipients(): void {
      // Read when next asked, not now: a storm of residents' push subscriptions must not re-read them all per write.
      recipientsStale = true;
    },
    /**
     * Replace one staff member's own recipients (their notification
     * preferences, issue 13). Kept in memory: the preferences are the
     * stored truth and are applied again at start.
     */
    setUserRecipients(username: string, list: readonly Recipient[]): void {
      const label = `user:${username}`;
      for (const [id, r] of recipients) {
        if (r.source !== 'user' || r.label !== label) continue;
        recipients.delete(id);
        for (const c of options.channels) if (c.kind === r.channel) c.forget?.(r);
      }
      for (const r of list) {
        recipients.set(r.id, r);
        for (const c of options.channels) if (c.kind === r.channel) c.prepare?.([r]);
      }
    },
    /** Resolves when every queued delivery attempt (retries included) is done. */
    idle: () => dispatcher.idle().then(() => store.flushDeliveries()),
    reminderPolicy,
    async close(): Promise<void> {
      clearInterval(sweepTimer);
      reminders.close();
      await dispatcher.close();
      store.close();
    },
  };
}
export type Alerting = ReturnType<typeof createAlerting>;
