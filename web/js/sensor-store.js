// Every sensor's current state in the page, fed by /api/sensors and the live stream, and what the
// page shows for it: the server's status, corrected locally for silence and maintenance.

/**
 * Sort order, most urgent first. Mirrors SEVERITY in services/core/status.ts
 * (offline ranks above caution so a silent sensor is not missed); maintenance
 * is known and announced, so it ranks just above normal.
 */
/** @type {Readonly<Record<string, number>>} */
export const SEVERITY = { danger: 5, warning: 4, offline: 3, caution: 2, maintenance: 1, normal: 0 };

export const DISPLAY_STATUSES = ['danger', 'warning', 'caution', 'normal', 'offline', 'maintenance'];

/** Contract: offline after 3 × the reporting interval without a reading (services/core/limits.ts). */
export const OFFLINE_AFTER_INTERVALS = 3;

/**
 * The status to show now. The server's status is trusted except that silence
 * past `offlineAtMs` is shown as offline even before the server says so (its
 * sweep runs every few seconds and the stream may be down), using the server
 * clock estimated from the HTTP Date header.
 * @param {{state: string, serverStatus: string, observedAtMs: number|null, offlineAtMs: number|null}} s
 * @param {number} serverNow
 */
export function displayStatus(s, serverNow) {
  if (s.state === 'maintenance') return 'maintenance';
  if (s.observedAtMs === null || s.offlineAtMs === null || serverNow >= s.offlineAtMs) return 'offline';
  return s.serverStatus === 'offline' ? 'offline' : s.serverStatus;
}

/**
 * Inline SVG for a status symbol (sprite in index.html).
 * @param {string} status
 * @param {string} [cls]
 */
export function symbolSvg(status, cls = 'sym') {
  return `<svg class="${cls}" aria-hidden="true" focusable="false"><use href="#sym-${status}"></use></svg>`;
}

/**
 * Change an element made by symbolSvg() to another status without re-creating it.
 * @param {Element} svg
 * @param {string} status
 */
export function setSymbol(svg, status) {
  svg.firstElementChild?.setAttribute('href', `#sym-${status}`);
}

/** @typedef {import('../shared/messages.js').Words} Words */
/**
 * A level threshold set in cm (a river gauge's standby and plan_high_water only where set, issue 12).
 * @typedef {{ caution: number, warning: number, danger: number, standby?: number, plan_high_water?: number }} Thresholds
 */
/** @typedef {{ rate_cm_per_h: number, window_s: number, direction: 'rising' | 'falling' | 'steady' }} Trend */
/** @typedef {{ id: string, reason: string | null, since: string }} Closure */
/**
 * A sensor as the page shows it (from a GeoJSON feature of /api/sensors and the live stream).
 * @typedef {{
 *   id: string, lat: number, lon: number, name: string, nameEn: string|null, address: string|null,
 *   addressEn: string|null, maintenance: { reason: string|null, until: string|null } | null,
 *   state: string, serverStatus: string, levelCm: number|null, stages: number[]|null, observedAtMs: number|null,
 *   offlineAtMs: number|null, intervalS: number, thresholds: Thresholds,
 *   batteryV: number|null, closure: Closure|null, site: 'road'|'river', trend: Trend|null,
 *   nextLevel: 'caution'|'warning'|'danger'|'plan_high_water'|null, etaS: number|null, status: string
 * }} SensorView
 */
/** @typedef {{ full: boolean, ids: Set<string>, tick: boolean }} StoreChange */
/** @typedef {ReturnType<typeof createSensorStore>} SensorStore */

/**
 * @param {any} f a GeoJSON feature of /api/sensors (services/api/geojson.ts)
 * @returns {SensorView}
 */
function fromFeature(f) {
  const p = f.properties;
  return {
    id: String(f.id),
    lon: f.geometry.coordinates[0],
    lat: f.geometry.coordinates[1],
    name: p.name,
    nameEn: p.name_en ?? null,
    address: p.address ?? null,
    /** Issue 12: the address in English, when the city gave one. */
    addressEn: p.address_en ?? null,
    /** Issue 12: {reason, until} while in maintenance, else null. */
    maintenance: p.maintenance ?? null,
    state: p.state ?? 'active',
    serverStatus: p.status,
    levelCm: p.level_cm ?? null,
    /** Stage sensors (issue 11): the fixed detection heights in cm; null for level sensors. */
    stages: p.stages ?? null,
    observedAtMs: p.observed_at ? Date.parse(p.observed_at) : null,
    offlineAtMs: p.offline_at ? Date.parse(p.offline_at) : null,
    intervalS: p.interval_s,
    thresholds: p.thresholds,
    batteryV: p.battery_v ?? null,
    /** A road closure set by the city (issue 13): {id, reason, since} or null. Not a status: a fact staff set. */
    closure: p.closure ?? null,
    /** Issue 12: road (depth, cm) or river (stage above the gauge datum, shown in m). */
    site: p.site ?? 'road',
    /** Issue 12: the server's trend {rate_cm_per_h, window_s, direction} or null, the next level and seconds to it. */
    trend: p.trend ?? null,
    nextLevel: p.next_level ?? null,
    etaS: p.eta_s ?? null,
    status: 'offline',
  };
}

/** Renders at most every 50 ms under heavy streams: still well inside the 100 ms a live update may take (issue 6). */
const MIN_RENDER_GAP_MS = 50;

/**
 * Holds sensors and tells subscribers which changed, at most once per frame
 * (100 readings/s must not mean 100 re-renders/s).
 * @param {{ now: () => number }} deps server clock
 */
export function createSensorStore(deps) {
  /** @type {Map<string, SensorView>} */
  const sensors = new Map();
  /** @type {Set<(change: StoreChange) => void>} */
  const listeners = new Set();
  /** @type {Set<(sensorId: string, ts: number, levelCm: number) => void>} */
  const readingListeners = new Set();
  /** @type {Set<string>} */
  let dirty = new Set();
  let full = false;
  let ticked = false;
  let scheduled = false;
  let lastFlush = -Infinity;

  function flush() {
    if (!scheduled) return;
    scheduled = false;
    lastFlush = performance.now();
    const change = { full, ids: dirty, tick: ticked };
    full = false;
    ticked = false;
    dirty = new Set();
    for (const fn of listeners) fn(change);
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    // The first change after a quiet spell renders in the next frame; during a storm of updates
    // renders are spaced MIN_RENDER_GAP_MS apart, so 100 readings/s cost 20 renders/s, not 60.
    const wait = Math.max(0, lastFlush + MIN_RENDER_GAP_MS - performance.now());
    const frame = () => requestAnimationFrame(flush);
    if (wait === 0) frame();
    else setTimeout(frame, wait);
    // Hidden tabs get no frames: render anyway, a little later.
    setTimeout(flush, wait + 100);
  }

  /**
   * @param {SensorView} s
   */
  function refresh(s) {
    const next = displayStatus(s, deps.now());
    if (next !== s.status) {
      s.status = next;
      return true;
    }
    return false;
  }

  return {
    /** @param {string} id */
    get: (id) => sensors.get(id),
    all: () => sensors.values(),
    get size() {
      return sensors.size;
    },
    /**
     * Replace everything (first load, or `resync` from the stream). Retired sensors are not shown to the public.
     * @param {any[]} features GeoJSON features of /api/sensors
     */
    replaceAll(features) {
      sensors.clear();
      for (const f of features) {
        const s = fromFeature(f);
        if (s.state === 'retired') continue;
        refresh(s);
        sensors.set(s.id, s);
      }
      full = true;
      schedule();
    },
    /**
     * A `reading` event: {sensor_id, ts, level_cm, status, latest, battery_v?}.
     * @param {any} ev
     */
    applyReading(ev) {
      const s = sensors.get(ev.sensor_id);
      const ts = Date.parse(ev.ts);
      for (const fn of readingListeners) fn(ev.sensor_id, ts, ev.level_cm);
      if (!s || ev.latest === false) return;
      // Events replayed after a reconnect may be older than what /api/sensors already gave us.
      if (s.observedAtMs !== null && ts < s.observedAtMs) return;
      s.levelCm = ev.level_cm;
      s.observedAtMs = ts;
      s.offlineAtMs = ts + OFFLINE_AFTER_INTERVALS * s.intervalS * 1000;
      if (ev.status) s.serverStatus = ev.status;
      if (ev.battery_v !== undefined) s.batteryV = ev.battery_v;
      // Issue 12: the live event carries the server's trend, so the map never computes its own.
      if ('trend' in ev) {
        s.trend = ev.trend ?? null;
        s.nextLevel = ev.next_level ?? null;
        s.etaS = ev.eta_s ?? null;
      }
      refresh(s);
      dirty.add(s.id);
      schedule();
    },
    /**
     * A `status` event: {sensor_id, status, previous}.
     * @param {any} ev
     */
    applyStatus(ev) {
      const s = sensors.get(ev.sensor_id);
      if (!s) return;
      s.serverStatus = ev.status;
      refresh(s);
      dirty.add(s.id);
      schedule();
    },
    /**
     * A `closure` event: {event: 'closed'|'lifted', sensor_id, closure}.
     * @param {any} ev
     */
    applyClosure(ev) {
      const s = sensors.get(ev.sensor_id);
      if (!s) return;
      s.closure = ev.closure ?? null;
      dirty.add(s.id);
      schedule();
    },
    /** Re-evaluate silence for every sensor; relative times change too, so every row is "touched". */
    tick() {
      for (const s of sensors.values()) if (refresh(s)) dirty.add(s.id);
      ticked = true;
      schedule();
    },
    /** Earliest future offline boundary, to tick exactly when a sensor falls silent. */
    nextBoundary() {
      const now = deps.now();
      let next = Infinity;
      for (const s of sensors.values()) if (s.offlineAtMs !== null && s.offlineAtMs > now && s.offlineAtMs < next) next = s.offlineAtMs;
      return next;
    },
    /**
     * @param {(change: StoreChange) => void} fn
     */
    subscribe(fn) {
      listeners.add(fn);
    },
    /**
     * Every reading as it arrives, older ones too (for an open chart).
     * @param {(sensorId: string, ts: number, levelCm: number) => void} fn
     */
    onReading(fn) {
      readingListeners.add(fn);
    },
  };
}
