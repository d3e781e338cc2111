// The list: every sensor, most severe first. Needs no map tiles and no Leaflet.
import { etaText, formatLevel, getLang, onLangChange, relativeTime, t } from './i18n.js';
import { SEVERITY } from './sensor-store.js';

/**
 * @param {Pick<import('./sensor-store.js').SensorView, 'name' | 'nameEn'>} s
 */
export function sensorName(s) {
  return getLang() === 'en' && s.nameEn ? s.nameEn : s.name;
}

/**
 * The address in the page's language (issue 12: `address_en`), else the Japanese one.
 * @param {Pick<import('./sensor-store.js').SensorView, 'address' | 'addressEn'>} s
 */
export function sensorAddress(s) {
  return (getLang() === 'en' && s.addressEn) || s.address || '';
}

/** One collator, made once: localeCompare with a locale argument builds one per call (slow at 1,000 rows). */
const collator = new Intl.Collator('ja');

/**
 * Most severe first; within a status the deepest water first; then by name for a stable order.
 * @param {import('./sensor-store.js').SensorView} a
 * @param {import('./sensor-store.js').SensorView} b
 */
export function compareSensors(a, b) {
  return (
    SEVERITY[b.status] - SEVERITY[a.status] ||
    (b.levelCm ?? -1) - (a.levelCm ?? -1) ||
    collator.compare(a.name, b.name) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Quickest the list follows a stream of live updates (markers follow every frame). */
const LIST_GAP_MS = 250;

/** Rows in the first paint: more than a tall phone or a desktop list shows. */
const FIRST_ROWS = 40;

/** One row, cloned per sensor (cheaper than parsing markup 1,000 times). */
const ROW = document.createElement('template');
ROW.innerHTML =
  '<li class="row"><button type="button" class="row-btn"><span class="ico" aria-hidden="true"></span>' +
  '<span class="row-main"><span class="row-name"></span><span class="row-addr"></span><span class="row-closure" hidden></span><span class="row-eta" hidden></span></span>' +
  '<span class="row-side"><span class="row-status"></span><span class="row-level"></span><span class="row-time"></span></span></button></li>';

/**
 * @param {{ listEl: HTMLOListElement, store: import('./sensor-store.js').SensorStore,
 *           now: () => number, onSelect: (id: string) => void }} deps
 */
export function createListView(deps) {
  const { listEl, store } = deps;
  /** @typedef {{li: HTMLLIElement, btn: HTMLButtonElement, sym: SVGElement, name: HTMLElement, addr: HTMLElement, closure: HTMLElement, eta: HTMLElement, status: HTMLElement, level: HTMLElement, time: HTMLElement, key: string}} Row */
  /** @type {Map<string, Row>} */
  const rows = new Map();
  /** @type {string[]} */
  let order = [];
  let marked = false;
  let appending = false;
  let reorderAfterAppend = false;

  /**
   * @param {import('./sensor-store.js').SensorView} s
   * @returns {Row}
   */
  function makeRow(s) {
    const li = /** @type {HTMLLIElement} */ (ROW.content.firstElementChild?.cloneNode(true));
    const btn = /** @type {HTMLButtonElement} */ (li.firstElementChild);
    btn.dataset.sensorId = s.id;
    const [sym, main, side] = /** @type {any} */ (btn.children);
    return { li, btn, sym, name: main.children[0], addr: main.children[1], closure: main.children[2], eta: main.children[3], status: side.children[0], level: side.children[1], time: side.children[2], key: '' };
  }

  // One listener for every row.
  listEl.addEventListener('click', (e) => {
    const btn = /** @type {HTMLElement} */ (e.target).closest('[data-sensor-id]');
    if (btn instanceof HTMLElement) deps.onSelect(/** @type {string} */ (btn.dataset.sensorId));
  });

  /**
   * @param {HTMLElement} el
   * @param {string} text
   */
  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  /**
   * @param {Row} row
   * @param {import('./sensor-store.js').SensorView} s
   * @param {number} now
   */
  function update(row, s, now) {
    if (row.btn.dataset.status !== s.status) {
      row.btn.dataset.status = s.status;
      row.li.dataset.status = s.status; // the symbol is a CSS background chosen by data-status
    }
    setText(row.name, sensorName(s));
    setText(row.addr, sensorAddress(s));
    // A closure is the city's decision, shown beside (never instead of) what the sensor measures.
    row.closure.hidden = !s.closure;
    setText(row.closure, s.closure ? `⛔ ${t('closureLabel')}` : '');
    if (s.closure) row.btn.dataset.closed = 'true';
    else delete row.btn.dataset.closed;
    setText(row.status, t(`status.${s.status}`));
    setText(row.level, formatLevel(s.levelCm, s.stages, s.site));
    // Issue 12: the time to the next level, when the server gives one (rising, good fit; never for a silent sensor).
    const eta = s.status === 'offline' ? '' : etaText(s);
    row.eta.hidden = !eta;
    setText(row.eta, eta);
    setText(row.time, s.observedAtMs === null ? '' : relativeTime(s.observedAtMs, now));
  }

  /**
   * Move only the rows whose sensors changed, to where they now belong (a live update touches a few rows, not 1,000).
   * @param {Iterable<string>} ids
   */
  function reposition(ids) {
    if (appending) return void (reorderAfterAppend = true);
    for (const id of ids) {
      const s = store.get(id);
      const row = rows.get(id);
      if (!s || !row) continue;
      const at = order.indexOf(id);
      if (at < 0) continue;
      const prev = order[at - 1] !== undefined ? store.get(order[at - 1]) : undefined;
      const next = order[at + 1] !== undefined ? store.get(order[at + 1]) : undefined;
      if ((!prev || compareSensors(prev, s) <= 0) && (!next || compareSensors(s, next) <= 0)) continue;
      order.splice(at, 1);
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareSensors(/** @type {any} */ (store.get(/** @type {string} */ (order[mid]))), s) <= 0) lo = mid + 1;
        else hi = mid;
      }
      order.splice(lo, 0, id);
      const before = order[lo + 1] !== undefined ? rows.get(/** @type {string} */ (order[lo + 1]))?.li ?? null : null;
      listEl.insertBefore(row.li, before);
    }
  }

  function reorder() {
    if (appending) return void (reorderAfterAppend = true);
    const sorted = [...store.all()].sort(compareSensors);
    const changed = sorted.length !== order.length || sorted.some((s, i) => s.id !== order[i]);
    if (!changed) return;
    order = sorted.map((s) => s.id);
    const lis = order.map((id) => rows.get(id)?.li).filter((li) => li !== undefined);
    if (listEl.firstChild) return void listEl.append(...lis);
    // First fill: one screenful now, the rest in the next task, so the first glance does not wait
    // for 1,000 rows (test/bench/map.bench.ts).
    listEl.append(...lis.slice(0, FIRST_ROWS));
    if (lis.length <= FIRST_ROWS) return;
    appending = true;
    const appendRest = () => {
      if (!appending) return;
      listEl.append(...lis.slice(FIRST_ROWS));
      appending = false;
      if (reorderAfterAppend) (reorderAfterAppend = false), reorder();
    };
    // After the first screenful is painted (the timeout covers hidden tabs, which get no frames).
    requestAnimationFrame(() => setTimeout(appendRest));
    setTimeout(appendRest, 200);
  }

  function renderAll() {
    const now = deps.now();
    for (const [id, row] of rows) if (!store.get(id)) (row.li.remove(), rows.delete(id));
    for (const s of store.all()) {
      let row = rows.get(s.id);
      if (!row) rows.set(s.id, (row = makeRow(s)));
      update(row, s, now);
    }
    reorder();
    // For the speed budget (test/bench/map.bench.ts): when the list first showed every sensor.
    // Marked after the next frame, so style, layout and paint of the rows are included.
    if (store.size && !marked) {
      marked = true;
      requestAnimationFrame(() => setTimeout(() => performance.mark('kansui:list')));
    }
  }

  // Live changes reach the list at most every LIST_GAP_MS: rows moving 20 times a second help no
  // one and cost layout of the whole list each time; the markers stay at full speed.
  /** @type {Set<string>} */
  let pending = new Set();
  let timer = 0;
  let lastApplied = -Infinity;
  function applyPending() {
    timer = 0;
    lastApplied = performance.now();
    const ids = pending;
    pending = new Set();
    const now = deps.now();
    for (const id of ids) {
      const s = store.get(id);
      const row = rows.get(id);
      if (s && row) update(row, s, now);
    }
    reposition(ids);
  }

  store.subscribe((change) => {
    if (change.full || change.tick) {
      for (const id of change.ids) pending.add(id);
      clearTimeout(timer);
      applyPending();
      return renderAll();
    }
    for (const id of change.ids) pending.add(id);
    if (!timer) timer = setTimeout(applyPending, Math.max(0, lastApplied + LIST_GAP_MS - performance.now()));
  });
  onLangChange(renderAll);
  return {
    /**
     * @param {string} id
     */
    focusRow(id) {
      rows.get(id)?.btn.focus();
    },
  };
}
