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

/** How far back an episode's start is looked for. */
const EPISODE_LOOKBACK_MS = 24 * 3600_000;
/** Readings read at most per refetch and sensor (24 hours at the 10-s minimum interval is 8,640). */
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

  /**
   * Episode peaks, remembered per sensor. An episode is the water's time at
   * or above 注意 (the sensor's caution threshold) since it was last below;
   * looked for in the last 24 hours. The board is refetched after every alert
   * and status event of a storm, by every open console, so each refetch reads
   * only the readings newer than the newest it has seen. (A reading arriving
   * out of order, older than that, is not counted.)
   */
  const peaks = new Map<string, { readTo: number; best: { levelCm: number; observedAt: number } | undefined }>();
  async function peakOf(sensorId: string, caution: number, to: number) {
    const p = peaks.get(sensorId) ?? { readTo: to - EPISODE_LOOKBACK_MS, best: undefined };
    if (to > p.readTo) {
      const rows = await deps.store.range({ sensorId, from: p.readTo + 1, to, limit: PEAK_ROWS });
      for (const r of rows) {
        if (r.levelCm < caution) p.best = undefined; // below 注意: the episode ended; the next one starts afresh
        else if (!p.best || r.levelCm > p.best.levelCm) p.best = { levelCm: r.levelCm, observedAt: r.observedAt };
      }
      // Read on from the newest reading seen (not the clock): a sensor that uploads what it buffered offline is still counted.
      p.readTo = rows.at(-1)?.observedAt ?? p.readTo;
    }
    peaks.set(sensorId, p);
    return p.best;
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
    for (const id of peaks.keys()) if (!rows.some((e) => e.sensor.id === id)) peaks.delete(id);
    await Promise.all(
      rows.map(async (e) => {
        e.peak = await peakOf(e.sensor.id, e.sensor.thresholds.caution, Math.max(t, e.reading?.observedAt ?? t)).catch(() => undefined);
      }),
    );
    return { t, rows };
  }

  function toJson(e: BoardInput, t: number) {
    const flood = e.alerts.find((a) => a.kind === 'flood');
    // The sensor's own site (issue 12) when it has one; else what its alert preset implies.
    const site = e.sensor.site ?? siteOf(e.settings);
    const settings = site === 'river' && e.settings.preset !== 'river_channel' ? { ...e.settings, preset: 'river_channel' as const } : e.settings;
    return {
      sensor_id: e.sensor.id,
      name: e.sensor.name,
      name_en: e.sensor.nameEn ?? null,
      address: e.sensor.address ?? null,
      lat: e.sensor.lat,
      lon: e.sensor.lon,
      site,
      state: e.sensor.state,
      status: e.status,
      status_name: statusName(e.status, settings),
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
