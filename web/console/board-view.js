import { api, messageOf } from './api.js';
import { clear, h, toast } from './dom.js';
import { currentLang, t } from './i18n.js';
import { createBoardCues } from './board-cues.js';
import { createBoardMap } from './board-map.js';
import { segmentForm } from './segment-form.js';
import { DEFAULT_TIME_ZONE } from '../shared/messages.js';

// The staff situation board (issue 13): every active alert and every sensor at 注意 or above,
// worst first, live from the event stream without reload; a list for desks and phones, a map
// for the wall screen. Data: GET /api/board (server-side order and episode peaks), trend and
// time to the next level from /api/sensors where the server gives them, SSE /api/events.

/** @type {Record<string, string>} */
const ICONS = { normal: '✓', caution: '!', warning: '‼', danger: '✕', offline: '—' };
/** @type {Record<string, string>} */
const KIND_KEYS = { flood: 'kindFlood', offline: 'kindOffline', low_battery: 'kindBattery', sensor_fault: 'kindFault' };
/** Re-render at most this often under a stream of readings. */
const RENDER_GAP_MS = 250;
/** The wall map is redrawn at most this often for readings (its labels carry the level). */
const MAP_GAP_MS = 2_000;
/** Board data is refetched (debounced) after status, alert and closure events. */
const REFETCH_DEBOUNCE_MS = 200;

const clockFmt = new Intl.DateTimeFormat('en-GB', { timeZone: DEFAULT_TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
/**
 * @param {string | number | null | undefined} iso
 */
function clock(iso) {
  return iso ? clockFmt.format(typeof iso === 'number' ? iso : Date.parse(iso)) : '—';
}
/**
 * @param {string | null | undefined} iso
 */
function ago(iso) {
  if (!iso) return '';
  const min = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000));
  return currentLang() === 'en' ? `${min} min ago` : `${min}分前`;
}
/**
 * A river stage in metres with two decimals (as 川の防災情報 shows them, issue 12), a road's depth in cm.
 * @param {number | null | undefined} cm
 * @param {string} [site]
 */
function level(cm, site) {
  if (cm === null || cm === undefined) return '—';
  return site === 'river' ? `${(cm / 100).toFixed(2)} m` : `${cm} cm`;
}
const nameOf = (/** @type {{ name: string, name_en?: string | null }} */ x) => (currentLang() === 'en' && x.name_en ? x.name_en : x.name);
const lang = (/** @type {{ ja: string, en: string } | null | undefined} */ pair) => (pair ? (currentLang() === 'en' ? pair.en : pair.ja) : '');

/**
 * Trend and time to the next level, when /api/sensors carries them (`trend`, `next_level`, `eta_s`).
 * @param {any} p a sensor's properties from /api/sensors
 */
function trendText(p) {
  if (!p || !p.trend) return null;
  const rate = p.trend.rate_cm_per_h;
  if (typeof rate !== 'number') return null;
  const arrow = rate > 0.5 ? '↑' : rate < -0.5 ? '↓' : '→';
  let s = `${arrow} ${rate > 0 ? '+' : ''}${rate.toFixed(1)} cm/h`;
  if (typeof p.eta_s === 'number' && p.next_level) {
    const min = Math.max(1, Math.round(p.eta_s / 60));
    const level = typeof p.next_level === 'string' ? t(p.next_level) : (lang(p.next_level.name) || t(p.next_level.level ?? ''));
    s += currentLang() === 'en' ? `, ${level} in about ${min} min` : `、${level}まで約${min}分`;
  }
  return s;
}

/**
 * @param {HTMLElement} view
 * @param {import('./api.js').Session} session
 */
export function renderBoard(view, session) {
  // Technicians read the board; acknowledging and closing roads is staff work (the API says 403 otherwise).
  const acts = session?.role !== 'technician';
  const prefs = {
    get sound() { return localStorage.getItem('kansui-board-sound') !== 'off'; },
    set sound(v) { localStorage.setItem('kansui-board-sound', v ? 'on' : 'off'); },
    get notify() { return localStorage.getItem('kansui-board-notify') === 'on'; },
    set notify(v) { localStorage.setItem('kansui-board-notify', v ? 'on' : 'off'); },
    get view() { return localStorage.getItem('kansui-board-view') === 'map' ? 'map' : 'list'; },
    set view(v) { localStorage.setItem('kansui-board-view', v); },
  };
  /** @typedef {import('./board-map.js').BoardItem} BoardItem an entry of GET /api/board (services/core/board.ts) */
  /** @type {BoardItem[]} */
  let items = [];
  /** Extra properties per sensor from /api/sensors (trend, eta, site where the server has them). */
  /** @type {Map<string, any>} */
  let props = new Map();
  /** Notes being typed, by alert id: a live re-render must never lose them. */
  const drafts = new Map();
  const closing = new Map();
  let live = 'connecting';
  let liveSince = Date.now();
  let lastEventAt = Date.now();
  let closed = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let renderTimer;
  let lastRender = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refetchTimer;
  /** @type {EventSource | undefined} */
  let source;

  const cues = createBoardCues({ prefs, onCue: () => (view.dataset.cues = String(Number(view.dataset.cues ?? 0) + 1)) });

  const liveEl = h('p', { id: 'board-live', role: 'status', 'aria-live': 'polite' });
  const lineEl = h('div', { id: 'board-line', class: 'board-line', hidden: true });
  /** Road segments the city closed (drawn, not one sensor's road): listed with a lift button. */
  const segmentsEl = h('div', { id: 'board-segments', class: 'board-segments', hidden: true });
  /** @type {any[]} closures with a drawn segment (GET /api/closures) */
  let segments = [];
  const listEl = h('div', { id: 'board-list', class: 'board-list' });
  const empty = h('p', { class: 'muted', id: 'board-empty', hidden: true }, t('boardEmpty'));
  const mapBox = h('div', { id: 'board-map', class: 'board-map', hidden: true });
  const map = createBoardMap(mapBox, { onSelect: (id) => document.querySelector(`article[data-sensor-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'center' }) });

  const soundBox = h('input', { type: 'checkbox', id: 'board-sound', checked: prefs.sound, onchange: (/** @type {Event} */ e) => ((prefs.sound = /** @type {HTMLInputElement} */ (e.target).checked), cues.unlock()) });
  const notifyBox = h('input', {
    type: 'checkbox',
    id: 'board-notify',
    checked: prefs.notify,
    onchange: async (/** @type {Event} */ e) => {
      const on = /** @type {HTMLInputElement} */ (e.target).checked;
      prefs.notify = on;
      if (on) await cues.askPermission();
    },
  });
  const viewBtn = h('button', { type: 'button', class: 'secondary', id: 'board-view-toggle', onclick: () => ((prefs.view = prefs.view === 'map' ? 'list' : 'map'), applyView()) });

  function applyView() {
    const m = prefs.view === 'map';
    mapBox.hidden = !m;
    view.classList.toggle('board-wall', m);
    viewBtn.textContent = m ? t('boardListView') : t('boardMapView');
    if (m) map.show(items);
  }

  function renderLive() {
    liveEl.dataset.state = live;
    liveEl.className = `board-live board-live-${live}`;
    liveEl.textContent = live === 'live' ? `● ${t('boardLive')}（${clock(lastEventAt)}）` : `○ ${t('boardNotLive').replace('{time}', clock(liveSince))}`;
  }

  /**
   * @param {BoardItem} item
   * @param {any} a one of the item's alerts
   */
  function alertRow(item, a) {
    const waiting = a.state === 'raised';
    // The server names every kind (level_name); our own words only where we have them, so a new kind never shows as a key.
    const kind = a.kind === 'flood' || !KIND_KEYS[a.kind] ? (currentLang() === 'en' ? a.level_name_en : a.level_name) : t(KIND_KEYS[a.kind]);
    const bits = [h('span', { class: `status status-${a.kind === 'offline' ? 'offline' : a.severity}` }, kind)];
    bits.push(h('span', { class: 'muted' }, ` ${t('raisedAt')} ${clock(a.raised_at)}`));
    if (a.reminders) bits.push(h('span', { class: 'board-reminded' }, ` ${t('boardReminded').replace('{n}', a.reminders)}`));
    if (a.kind !== 'flood') {
      bits.push(h('span', { class: 'muted' }, ` ${t('battery')} ${item.battery_v ?? '—'} V · ${t('signal')} ${item.rssi_dbm ?? '—'} dBm`));
    }
    if (!waiting || !acts) {
      if (waiting) return h('li', { class: 'board-alert board-alert-waiting', dataset: { alertId: a.id, state: a.state } }, ...bits);
      return h('li', { class: 'board-alert', dataset: { alertId: a.id, state: a.state } }, ...bits,
        h('div', { class: 'board-acked' }, `✔ ${t('acknowledged')} ${a.acknowledged_by ?? ''} ${clock(a.acknowledged_at)}`, a.ack_note ? `：${a.ack_note}` : ''));
    }
    const note = h('input', {
      name: 'note', class: 'board-note', maxlength: 500, 'aria-label': `${t('note')} (${nameOf(item)})`, placeholder: t('boardNoteHint'),
      value: drafts.get(a.id) ?? '', oninput: (/** @type {Event} */ e) => drafts.set(a.id, /** @type {HTMLInputElement} */ (e.target).value), dataset: { alertId: a.id },
    });
    const btn = h('button', {
      type: 'button', class: 'board-ack', dataset: { alertId: a.id },
      onclick: async () => {
        btn.disabled = true;
        try {
          const text = (drafts.get(a.id) ?? '').trim();
          await api('POST', `/api/alerts/${encodeURIComponent(a.id)}/ack`, text ? { note: text } : {});
          drafts.delete(a.id);
          toast(t('acknowledged'));
          await refetch();
        } catch (err) {
          toast(messageOf(err));
          btn.disabled = false;
        }
      },
    }, t('acknowledge'));
    return h('li', { class: 'board-alert board-alert-waiting', dataset: { alertId: a.id, state: a.state } }, ...bits, h('div', { class: 'board-ack-form' }, note, btn));
  }

  /**
   * @param {BoardItem} item
   */
  function closureRow(item) {
    if (!acts) return item.closure ? h('div', { class: 'board-closure', dataset: { closureId: item.closure.id } }, `⛔ ${t('closureLabel')} ${clock(item.closure.since)}〜：${item.closure.reason}`) : null;
    if (item.closure) {
      const c = item.closure;
      return h('div', { class: 'board-closure', dataset: { closureId: c.id } },
        `⛔ ${t('closureLabel')} ${clock(c.since)}〜 ${c.by ? `(${c.by}) ` : ''}：${c.reason}`,
        h('button', { type: 'button', class: 'secondary board-lift', onclick: () => lift(c.id) }, t('closureLift')));
    }
    if (!closing.has(item.sensor_id)) {
      return h('div', { class: 'board-closure-actions' }, h('button', { type: 'button', class: 'secondary board-close-road', onclick: () => (closing.set(item.sensor_id, ''), render(true)) }, t('closureSet')));
    }
    const reason = h('input', { class: 'board-closure-reason', maxlength: 500, 'aria-label': t('closureReason'), placeholder: t('closureReason'), value: closing.get(item.sensor_id), oninput: (/** @type {Event} */ e) => closing.set(item.sensor_id, /** @type {HTMLInputElement} */ (e.target).value) });
    return h('div', { class: 'board-closure-actions' }, reason,
      h('button', { type: 'button', class: 'danger board-close-confirm', onclick: () => closeRoad(item.sensor_id) }, t('closureConfirm')),
      h('button', { type: 'button', class: 'secondary', onclick: () => (closing.delete(item.sensor_id), render(true)) }, t('cancel')));
  }

  /**
   * @param {string} sensorId
   */
  async function closeRoad(sensorId) {
    const reason = (closing.get(sensorId) ?? '').trim();
    if (!reason) return toast(t('closureReason'));
    try {
      await api('POST', '/api/closures', { sensor: sensorId, reason });
      closing.delete(sensorId);
      await refetch();
    } catch (err) {
      toast(messageOf(err));
    }
  }
  /**
   * @param {string} id
   */
  async function lift(id) {
    try {
      await api('DELETE', `/api/closures/${encodeURIComponent(id)}`);
      await refetch();
    } catch (err) {
      toast(messageOf(err));
    }
  }

  /**
   * @param {BoardItem} item
   */
  function card(item) {
    const p = props.get(item.sensor_id);
    const site = p?.site ?? item.site;
    const trend = trendText(p);
    const statusKey = item.status;
    const facts = [
      [t('level'), h('span', { class: 'board-level' }, level(item.level_cm, site)), h('span', { class: 'muted' }, ` ${lang(item.status_name)}`)],
      [t('boardPeak'), item.peak ? `${level(item.peak.level_cm, site)}（${clock(item.peak.at)}）` : '—'],
      ...(trend ? [[t('boardTrend'), h('span', { class: 'board-trend' }, trend)]] : []),
      [t('lastSeen'), h('span', { class: 'board-time' }, `${clock(item.observed_at)}（${ago(item.observed_at)}）`)],
    ];
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.alertId : undefined;
    const el = h('article', { class: `board-card board-${statusKey}`, dataset: { sensorId: item.sensor_id, status: statusKey } },
      h('header', { class: 'board-head' },
        h('span', { class: `status status-${statusKey}` }, h('span', { 'aria-hidden': 'true' }, ICONS[statusKey] ?? '?'), lang(item.status_name)),
        h('h2', { class: 'board-name' }, nameOf(item)),
        h('span', { class: 'board-site' }, t(site === 'river' ? 'siteRiver' : 'siteRoad'))),
      item.address ? h('p', { class: 'board-addr muted' }, item.address) : null,
      h('dl', { class: 'board-facts' }, ...facts.map(([k, ...v]) => h('div', {}, h('dt', {}, k), h('dd', {}, ...v)))),
      item.alerts.length ? h('ul', { class: 'board-alerts' }, ...item.alerts.map((/** @type {any} */ a) => alertRow(item, a))) : null,
      closureRow(item),
    );
    if (focused) queueMicrotask(() => /** @type {HTMLInputElement | null} */ (el.querySelector(`input[data-alert-id="${CSS.escape(focused)}"]`))?.focus());
    return el;
  }

  function render(now = false) {
    if (closed) return;
    const gap = Date.now() - lastRender;
    if (!now && gap < RENDER_GAP_MS) {
      renderTimer ??= setTimeout(() => ((renderTimer = undefined), render(true)), RENDER_GAP_MS - gap);
      return;
    }
    lastRender = Date.now();
    // Keep what is being typed in a note or a closure reason: re-rendering must not steal focus or text.
    const active = document.activeElement;
    const keepFocus = active instanceof HTMLInputElement && listEl.contains(active) ? { alertId: active.dataset.alertId, cls: active.className, sensor: active.closest('[data-sensor-id]')?.getAttribute('data-sensor-id') ?? undefined, start: active.selectionStart } : null;
    clear(listEl).append(...items.map(card));
    empty.hidden = items.length > 0;
    view.dataset.count = String(items.length);
    if (keepFocus) {
      const sel = keepFocus.alertId ? `input[data-alert-id="${CSS.escape(keepFocus.alertId)}"]` : `[data-sensor-id="${CSS.escape(keepFocus.sensor ?? '')}"] input.${keepFocus.cls.split(' ')[0]}`;
      const again = /** @type {HTMLInputElement | null} */ (listEl.querySelector(sel));
      if (again) {
        again.focus();
        if (keepFocus.start !== null && keepFocus.start !== undefined) again.setSelectionRange(keepFocus.start, keepFocus.start);
      }
    }
    if (prefs.view === 'map') map.show(items);
    renderLive();
  }

  async function refetch() {
    const [board, sensors, closures] = await Promise.all([
      api('GET', '/api/board'),
      fetch('/api/sensors', { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : null)).catch(() => null),
      api('GET', '/api/closures').catch(() => ({ closures: [] })),
    ]);
    if (closed) return;
    segments = closures.closures.filter((/** @type {{ segment?: unknown }} */ c) => c.segment);
    renderSegments();
    items = board.items;
    // Readings that arrived over the stream while the board was being fetched are newer than it: keep them.
    for (const item of items) {
      const seen = latest.get(item.sensor_id);
      if (seen && (!item.observed_at || Date.parse(seen.ts) > Date.parse(item.observed_at))) applyReading(item, seen);
    }
    if (sensors?.features) props = new Map(sensors.features.map((/** @type {{ id: string, properties: any }} */ f) => [String(f.id), f.properties]));
    render(true);
  }
  /**
   * Refetch soon, at most one request at a time: events that arrive while one
   * is waiting or running make one more afterwards. (A debounce that restarts
   * on every event would starve during a storm, when statuses change all the
   * time: measured 7.7 s before a card changed, with 100 readings a second.)
   */
  let refetchRunning = false;
  let refetchAgain = false;
  function refetchSoon() {
    if (refetchRunning) return void (refetchAgain = true);
    if (refetchTimer) return;
    refetchTimer = setTimeout(async () => {
      refetchTimer = undefined;
      refetchRunning = true;
      try {
        await refetch();
      } catch {
        // the live state says whether we are connected; the next event tries again
      } finally {
        refetchRunning = false;
        if (refetchAgain) {
          refetchAgain = false;
          refetchSoon();
        }
      }
    }, REFETCH_DEBOUNCE_MS);
  }

  const segmentBox = h('div', { id: 'board-segment-box' });
  function openSegmentForm() {
    clear(segmentBox).append(segmentForm({ onDone: () => (clear(segmentBox), refetch().catch(() => {})) }));
  }

  function renderSegments() {
    segmentsEl.hidden = segments.length === 0;
    clear(segmentsEl).append(
      h('h2', {}, `⛔ ${t('closureSegments')}`),
      h('ul', {}, ...segments.map((c) => h('li', { dataset: { closureId: c.id } },
        h('strong', {}, c.segment.name), `：${c.reason}（${clock(c.since)}〜${c.by ? ` ${c.by}` : ''}）`,
        acts ? h('button', { type: 'button', class: 'secondary board-lift', onclick: () => lift(c.id) }, t('closureLift')) : null))),
    );
  }

  async function refreshLine() {
    try {
      const s = await api('GET', '/api/line/status');
      const q = s.quota;
      const share = q.limit && q.used !== null ? Math.round((q.used / q.limit) * 100) : null;
      clear(lineEl).append(
        h('strong', {}, 'LINE '),
        `${t('boardLineUsed')} ${q.used ?? '—'}${q.limit ? ` / ${q.limit}` : ''}${share !== null ? `（${share}%）` : ''} · ${t('boardLineResidents')} ${s.residents.users} · ${t('boardLineSent')} ${s.pushed.messages}`,
        q.short ? h('span', { class: 'warn' }, ` ${t('boardLineShort').replace('{level}', t(q.short_min_level))}`) : '',
      );
      lineEl.dataset.short = String(Boolean(q.short));
      lineEl.hidden = false;
    } catch {
      lineEl.hidden = true; // LINE is not configured (404), or this role may not see it
    }
  }

  /**
   * @param {any} e an `alert` event's data
   */
  function onAlertEvent(e) {
    if (e.event === 'raised' || e.event === 'escalated') {
      const name = items.find((x) => x.sensor_id === e.sensor_id);
      const label = currentLang() === 'en' ? e.level_name_en : e.level_name;
      cues.cue({ title: `${e.event === 'raised' ? t('boardNewAlert') : t('boardEscalated')}: ${label}`, body: name ? nameOf(name) : e.sensor_id, tag: e.id });
    }
    refetchSoon();
  }

  /** The newest reading the stream brought per sensor (a refetch may answer with an older one). */
  const latest = new Map();
  /**
   * @param {BoardItem} item
   * @param {any} e a reading event
   */
  function applyReading(item, e) {
    item.level_cm = e.level_cm;
    item.observed_at = e.ts;
    if (e.battery_v !== undefined) item.battery_v = e.battery_v;
    if (e.rssi_dbm !== undefined) item.rssi_dbm = e.rssi_dbm;
    if (!item.peak || e.level_cm > item.peak.level_cm) item.peak = { level_cm: e.level_cm, at: e.ts };
  }

  /**
   * @param {any} e a `reading` event's data
   */
  function onReading(e) {
    if (e.latest !== false) latest.set(e.sensor_id, e);
    const item = items.find((x) => x.sensor_id === e.sensor_id);
    if (!item) {
      if (e.status && e.status !== 'normal' && e.status !== 'offline') refetchSoon(); // a sensor just reached 注意
      return;
    }
    if (e.latest === false) return;
    applyReading(item, e);
    if (e.status && e.status !== item.status) return refetchSoon(); // names and order change with the status
    redrawCard(item);
  }

  /**
   * A reading changes one card: redraw only that one (a storm brings many
   * readings a second; rebuilding every card for each cost a phone dearly).
   * A card someone is typing in keeps its inputs and only has its facts
   * replaced.
   */
  const dirtyCards = new Set();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let cardTimer;
  /**
   * @param {BoardItem} item
   */
  function redrawCard(item) {
    dirtyCards.add(item.sensor_id);
    cardTimer ??= setTimeout(() => {
      cardTimer = undefined;
      for (const id of dirtyCards) {
        const it = items.find((x) => x.sensor_id === id);
        const old = listEl.querySelector(`article[data-sensor-id="${CSS.escape(id)}"]`);
        if (!it || !old) continue;
        const fresh = card(it);
        if (old.contains(document.activeElement)) {
          const facts = fresh.querySelector('.board-facts');
          if (facts) old.querySelector('.board-facts')?.replaceWith(facts);
        } else old.replaceWith(fresh);
      }
      dirtyCards.clear();
      if (prefs.view === 'map' && Date.now() - lastMapDraw > MAP_GAP_MS) {
        lastMapDraw = Date.now();
        map.show(items);
      }
    }, RENDER_GAP_MS);
  }
  let lastMapDraw = 0;

  let retryMs = 1000;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer;
  function connect() {
    clearTimeout(retryTimer);
    source?.close();
    source = new EventSource('/api/events');
    const es = source;
    source.onopen = () => {
      retryMs = 1000;
      const wasDown = live === 'down';
      live = 'live';
      lastEventAt = Date.now();
      renderLive();
      if (wasDown) refetchSoon();
    };
    source.onerror = () => {
      if (es !== source) return;
      if (live !== 'down') {
        live = 'down';
        liveSince = lastEventAt;
        renderLive();
      }
      // The browser gave up (an HTTP error, not a dropped connection): open a new stream, 1 s doubling to 30 s.
      if (es.readyState === EventSource.CLOSED && !closed) {
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30_000);
      }
    };
    const seen = () => {
      lastEventAt = Date.now();
      if (live !== 'live') {
        live = 'live';
        refetchSoon();
      }
    };
    source.addEventListener('reading', (m) => (seen(), onReading(JSON.parse(m.data))));
    source.addEventListener('status', () => (seen(), refetchSoon()));
    source.addEventListener('alert', (m) => (seen(), onAlertEvent(JSON.parse(m.data))));
    source.addEventListener('closure', () => (seen(), refetchSoon()));
    source.addEventListener('line_quota', () => (seen(), refreshLine()));
    source.addEventListener('resync', () => refetchSoon());
  }
  // "Live" also means recently heard: the server sends a comment every 15 s, which EventSource does not surface, so the clock ticks here.
  const tick = setInterval(() => {
    if (live === 'live') lastEventAt = Date.now();
    renderLive();
  }, 5_000);
  const linePoll = setInterval(refreshLine, 60_000);
  // "3分前" ages: redraw the cards now and then even when nothing arrives.
  const ageTick = setInterval(() => render(), 30_000);
  const onOnline = () => {
    if (!source || source.readyState === EventSource.CLOSED) connect();
  };
  addEventListener('online', onOnline);

  clear(view).append(
    h('div', { class: 'board-top' },
      h('h1', {}, t('board')),
      liveEl,
      h('div', { class: 'board-prefs' },
        h('label', { class: 'inline' }, soundBox, t('boardSound')),
        h('label', { class: 'inline' }, notifyBox, t('boardNotify')),
        viewBtn,
        acts ? h('button', { type: 'button', class: 'secondary', id: 'board-close-segment', onclick: openSegmentForm }, t('segmentClose')) : null),
    ),
    segmentBox,
    lineEl,
    segmentsEl,
    mapBox,
    empty,
    listEl,
  );
  view.addEventListener('pointerdown', () => cues.unlock(), { once: true });
  applyView();
  renderLive();
  connect();
  refreshLine();
  refetch().catch((err) => toast(messageOf(err)));

  return () => {
    closed = true;
    source?.close();
    clearInterval(tick);
    clearInterval(linePoll);
    clearInterval(ageTick);
    clearTimeout(retryTimer);
    removeEventListener('online', onOnline);
    clearTimeout(refetchTimer);
    clearTimeout(renderTimer);
    clearTimeout(cardTimer);
    map.destroy();
    view.classList.remove('board-wall');
  };
}
