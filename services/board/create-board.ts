import type { Hono } from 'hono';
import type { Alert } from '../core/alerts/alert.ts';
import type { AlertSettings } from '../core/alerts/policy.ts';
import { orderBoard, siteOf, statusName, type BoardInput } from '../core/board.ts';
import { closureToJson, type Closure } from '../core/closure.ts';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import { computeStatus } from '../core/status.ts';
import { formatIso } from '../core/time.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import { alertToJson } from '../alerting/alert-json.ts';

export interface BoardDeps {
  registry: SensorRegistry;
  latest: ReadonlyMap<string, Reading>;
  store: ReadingStore;
  /** Active alerts (the alert store) and per-sensor settings. */
  activeAlerts: () => Alert[];
  settingsOf: (sensorId: string) => AlertSettings;
  /** Reminders sent so far for an alert. */
  remindersOf?: (alertId: string) => number;
  closureOf: (sensorId: string) => Closure | undefined;
  timeZone: string;
  now?: () => number;
}

/** Without an alert, a sensor's "episode" for its peak is the last hour. */
const NO_ALERT_EPISODE_MS = 60 * 60_000;
/** Readings read at most for one episode's peak (a 12-hour episode at the 10-s minimum interval is 4,320). */
const PEAK_ROWS = 50_000;

/**
 * The staff situation board's data (issue 13): every sensor with an active
 * alert, at 注意 or above, or closed by the city, worst first, with what staff
 * need on one line — name and place, site, level and status, the episode's
 * peak and when, last reading, battery and signal, who acknowledged with
 * their note, the closure. The console keeps it live from the event stream.
 */
export function createBoard(deps: BoardDeps) {
  const now = deps.now ?? Date.now;
  const iso = (ms: number | undefined) => (ms === undefined ? null : formatIso(ms, deps.timeZone));

  async function peakOf(sensorId: string, from: number, to: number) {
    const rows = await deps.store.range({ sensorId, from, to, limit: PEAK_ROWS });
    let best: { levelCm: number; observedAt: number } | undefined;
    for (const r of rows) if (!best || r.levelCm > best.levelCm) best = r;
    return best;
  }

  async function build() {
    const t = now();
    const bySensor = new Map<string, Alert[]>();
    for (const a of deps.activeAlerts()) bySensor.set(a.sensorId, [...(bySensor.get(a.sensorId) ?? []), a]);
    const inputs: BoardInput[] = [];
    for (const sensor of deps.registry.list()) {
      if (sensor.state === 'retired') continue;
      const reading = deps.latest.get(sensor.id);
      inputs.push({
        sensor,
        reading,
        status: computeStatus(sensor, reading, t),
        alerts: bySensor.get(sensor.id) ?? [],
        settings: deps.settingsOf(sensor.id),
        closure: deps.closureOf(sensor.id),
        peak: undefined,
      });
    }
    const rows = orderBoard(inputs);
    await Promise.all(
      rows.map(async (e) => {
        const flood = e.alerts.find((a) => a.kind === 'flood');
        const from = flood?.raisedAt ?? t - NO_ALERT_EPISODE_MS;
        e.peak = await peakOf(e.sensor.id, Math.min(from, e.reading?.observedAt ?? from), t).catch(() => undefined);
      }),
    );
    return { t, rows };
  }

  function toJson(e: BoardInput, t: number) {
    const flood = e.alerts.find((a) => a.kind === 'flood');
    return {
      sensor_id: e.sensor.id,
      name: e.sensor.name,
      name_en: e.sensor.nameEn ?? null,
      address: e.sensor.address ?? null,
      lat: e.sensor.lat,
      lon: e.sensor.lon,
      site: siteOf(e.settings),
      state: e.sensor.state,
      status: e.status,
      status_name: statusName(e.status, e.settings),
      level_cm: e.reading?.levelCm ?? null,
      observed_at: iso(e.reading?.observedAt),
      battery_v: e.reading?.batteryV ?? null,
      rssi_dbm: e.reading?.rssiDbm ?? null,
      thresholds: { ...e.sensor.thresholds },
      episode_since: iso(flood?.raisedAt),
      peak: e.peak ? { level_cm: e.peak.levelCm, at: iso(e.peak.observedAt) } : null,
      alerts: e.alerts.map((a) => ({
        ...alertToJson(a, { timeZone: deps.timeZone, settings: e.settings, includeAck: true }),
        reminders: deps.remindersOf?.(a.id) ?? 0,
      })),
      closure: e.closure ? closureToJson(e.closure, (ms) => formatIso(ms, deps.timeZone), { includeBy: true }) : null,
      as_of: iso(t),
    };
  }

  return {
    build,
    routes(app: Hono<AuthEnv>): void {
      app.get('/api/board', requireRole('staff', 'technician'), async (c) => {
        const { t, rows } = await build();
        c.header('Cache-Control', 'no-store');
        return c.json({ generated_at: formatIso(t, deps.timeZone), items: rows.map((e) => toJson(e, t)) });
      });
    },
  };
}
