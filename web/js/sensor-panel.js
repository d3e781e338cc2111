// The sensor panel: level against thresholds, trend, freshness, 24 h / 7 d chart, share link.
import { fetchReadings } from './api.js';
import { etaText, formatClock, formatDateTime, formatLevel, getLang, onLangChange, relativeTime, statusLongOf, t, trendText } from './i18n.js';
import { renderLevelChart } from './level-chart.js';
import { renderLevelGauge } from './level-gauge.js';
import { sensorAddress, sensorName } from './list-view.js';
import { setSymbol, symbolSvg } from './sensor-store.js';
import { esc } from '../shared/messages.js';

const RANGES = { '24h': 24, '7d': 168 };

/**
 * @param {{ el: HTMLElement, store: import('./sensor-store.js').SensorStore, now: () => number, onClose: () => void,
 *           notify?: { available: () => boolean, isFollowing: (id: string) => boolean, follow: (id: string) => void } }} deps
 */
export function createSensorPanel(deps) {
  const { el, store } = deps;
  /** @type {string | null} */
  let id = null;
  /** @type {keyof typeof RANGES} */
  let range = '24h';
  /** @type {{from:number, to:number, points:{t:number, v:number}[]} | null} */
  let series = null;
  let seriesState = 'loading';
  let loadSeq = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let chartTimer;

  el.innerHTML =
    '<div class="panel-head"><span class="panel-sym"></span><h2 id="panel-title" class="panel-title"></h2>' +
    '<button type="button" class="btn panel-close" data-act="close"><span aria-hidden="true">×</span><span class="visually-hidden" data-i18n="close"></span></button></div>' +
    '<p class="panel-status"></p><p class="panel-eta" hidden></p><p class="panel-closure" hidden></p><p class="panel-note" hidden></p>' +
    '<dl class="facts"><div><dt data-i18n="level"></dt><dd class="f-level"></dd></div>' +
    '<div><dt data-i18n="trend"></dt><dd class="f-trend"></dd></div>' +
    '<div><dt data-i18n="lastUpdate"></dt><dd class="f-time"></dd></div>' +
    '<div class="f-addr-row"><dt data-i18n="address"></dt><dd class="f-addr"></dd></div></dl>' +
    '<div class="gauge-box"></div>' +
    '<div class="chart-tabs" role="group"><button type="button" class="btn" data-range="24h" data-i18n="range24h"></button>' +
    '<button type="button" class="btn" data-range="7d" data-i18n="range7d"></button></div>' +
    '<div class="chart-box" aria-live="polite"></div>' +
    '<div class="panel-actions"><button type="button" class="btn" data-act="share" data-i18n="' + (typeof navigator.share === 'function' ? 'shareNative' : 'share') + '"></button>' +
    '<button type="button" class="btn" data-act="notify" hidden></button></div>' +
    '<p class="toast" role="status" aria-live="polite"></p>';
  const q = (/** @type {string} */ sel) => /** @type {HTMLElement} */ (el.querySelector(sel));
  const parts = {
    sym: q('.panel-sym'), title: q('.panel-title'), status: q('.panel-status'), eta: q('.panel-eta'), note: q('.panel-note'), closure: q('.panel-closure'),
    level: q('.f-level'), trend: q('.f-trend'), time: q('.f-time'), addr: q('.f-addr'), addrRow: q('.f-addr-row'),
    gauge: q('.gauge-box'), chart: q('.chart-box'), toast: q('.toast'), notify: q('[data-act="notify"]'), tabs: q('.chart-tabs'),
  };
  parts.sym.innerHTML = symbolSvg('normal');

  el.addEventListener('click', (e) => {
    const target = /** @type {HTMLElement} */ (e.target).closest('button');
    if (!target) return;
    if (target.dataset.act === 'close') api.close();
    else if (target.dataset.act === 'share') share();
    else if (target.dataset.act === 'notify' && id) deps.notify?.follow(id);
    else if ((target.dataset.range === '24h' || target.dataset.range === '7d') && target.dataset.range !== range) {
      range = target.dataset.range;
      load();
    }
  });
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') api.close();
  });

  /**
   * @param {string} text
   */
  function toast(text) {
    parts.toast.textContent = text;
  }

  async function share() {
    const s = id && store.get(id);
    if (!s) return;
    const url = `${location.origin}${location.pathname}#sensor=${encodeURIComponent(s.id)}`;
    // Issue 12: the phone's own share sheet (LINE, mail…) where the browser has one; else copy the link.
    if (typeof navigator.share === 'function') {
      try {
        await navigator.share({ title: t('shareTitle', { name: sensorName(s) }), url });
        return;
      } catch (err) {
        if (/** @type {Error} */ (err)?.name === 'AbortError') return; // the resident closed the sheet
      }
    }
    try {
      await navigator.clipboard.writeText(url);
      toast(t('shared'));
    } catch {
      // No clipboard permission (older browsers, http): show the link to copy by hand.
      toast(url);
    }
  }

  function renderChart() {
    const s = id && store.get(id);
    if (!s) return;
    if (seriesState === 'loading') parts.chart.innerHTML = `<p class="chart-msg">${esc(t('chartLoading'))}</p>`;
    else if (seriesState === 'failed' || !series) parts.chart.innerHTML = `<p class="chart-msg">${esc(t('chartFailed'))}</p>`;
    else {
      parts.chart.innerHTML = renderLevelChart({
        ...series,
        thresholds: s.thresholds,
        intervalS: s.intervalS,
        stepped: Boolean(s.stages),
        site: s.site,
        rangeLabel: t(range === '24h' ? 'range24h' : 'range7d'),
        days: range === '7d',
      });
    }
    for (const b of parts.tabs.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.range === range));
  }

  /**
   * Issue 12: residents see why a sensor is in maintenance and until when, with its last reading.
   * @param {import('./sensor-store.js').SensorView} s
   */
  function maintenanceText(s) {
    const m = s.maintenance;
    const extra = [m?.reason ? t('maintenanceWhy', { reason: m.reason }) : '', m?.until ? t('maintenanceEnd', { time: formatDateTime(Date.parse(m.until)) }) : ''].filter(Boolean);
    return extra.length ? `${t('maintenanceNote')} ${extra.join(' / ')}` : t('maintenanceNote');
  }

  function render() {
    const s = id && store.get(id);
    if (!s) return;
    const now = deps.now();
    el.dataset.sensorId = s.id;
    el.dataset.status = s.status;
    setSymbol(/** @type {SVGElement} */ (parts.sym.firstElementChild), s.status);
    parts.title.textContent = sensorName(s);
    parts.status.textContent = statusLongOf(s);
    parts.status.dataset.status = s.status;
    const note = s.status === 'maintenance' ? maintenanceText(s) : s.status === 'offline' && s.observedAtMs !== null ? t('offlineNote', { time: formatDateTime(s.observedAtMs) }) : '';
    parts.note.textContent = note;
    parts.note.hidden = !note;
    // Issue 13: a closure is a fact the city set, shown apart from the sensor's status.
    parts.closure.hidden = !s.closure;
    parts.closure.textContent = s.closure ? `⛔ ${t('closureLabel')}${t('closureSince', { time: formatDateTime(Date.parse(s.closure.since)) })}: ${s.closure.reason}` : '';
    parts.level.textContent = formatLevel(s.levelCm, s.stages, s.site);
    parts.time.textContent = s.observedAtMs === null ? t('noData') : (getLang() === 'ja' ? `${relativeTime(s.observedAtMs, now)}（${formatClock(s.observedAtMs)}）` : `${relativeTime(s.observedAtMs, now)} (${formatClock(s.observedAtMs)})`);
    parts.addr.textContent = sensorAddress(s);
    parts.addrRow.hidden = !s.address && !s.addressEn;
    parts.gauge.innerHTML = renderLevelGauge(s.levelCm, s.thresholds, s.stages, s.site);
    // Issue 12: the server's trend (the one /api/sensors and pushes show), not for a silent sensor.
    const live = s.status !== 'offline' ? s : { ...s, trend: null, nextLevel: null, etaS: null };
    parts.trend.dataset.trend = live.trend?.direction ?? 'unknown';
    parts.trend.textContent = trendText(live);
    const eta = etaText(live);
    parts.eta.textContent = eta;
    parts.eta.hidden = !eta;
    const n = deps.notify;
    parts.notify.hidden = !n?.available();
    if (n?.available()) parts.notify.textContent = n.isFollowing(s.id) ? `🔔 ${t('notifyThisOn')}` : t('notifyThis');
  }

  async function load() {
    const seq = ++loadSeq;
    seriesState = 'loading';
    series = null;
    renderChart();
    try {
      const r = await fetchReadings(/** @type {string} */ (id), RANGES[range]);
      if (seq !== loadSeq) return;
      series = r;
      seriesState = 'ok';
    } catch {
      if (seq !== loadSeq) return;
      seriesState = 'failed';
    }
    renderChart();
    render();
  }

  // Live readings extend the open chart (redrawn at most twice a second).
  store.onReading((sensorId, ts, levelCm) => {
    if (sensorId !== id || !series || range !== '24h') return;
    if (series.points.some((p) => p.t === ts)) return;
    series.points.push({ t: ts, v: levelCm });
    series.points.sort((a, b) => a.t - b.t);
    series.to = Math.max(series.to, ts);
    clearTimeout(chartTimer);
    chartTimer = setTimeout(() => (renderChart(), render()), 500);
  });
  store.subscribe((change) => {
    if (id && (change.full || change.tick || change.ids.has(id))) render();
  });
  onLangChange(() => {
    if (id) (render(), renderChart());
  });

  const api = {
    get openId() {
      return id;
    },
    /**
     * @param {string} nextId
     */
    open(nextId) {
      if (!store.get(nextId)) return false;
      const same = nextId === id;
      id = nextId;
      el.hidden = false;
      render();
      if (!same) {
        range = '24h';
        load();
      }
      parts.title.setAttribute('tabindex', '-1');
      parts.title.focus({ preventScroll: true });
      return true;
    },
    close() {
      if (!id) return;
      id = null;
      loadSeq++;
      el.hidden = true;
      delete el.dataset.sensorId;
      deps.onClose();
    },
  };
  return api;
}
