// The list: every sensor, most severe first. Needs no map tiles and no Leaflet.
import { formatLevel, relativeTime } from './format.js';
import { getLang, onLangChange, t } from './i18n.js';
import { SEVERITY, setSymbol, symbolSvg } from './status.js';

export function sensorName(s) {
  return getLang() === 'en' && s.nameEn ? s.nameEn : s.name;
}

/** Most severe first; within a status the deepest water first; then by name for a stable order. */
export function compareSensors(a, b) {
  return (
    SEVERITY[b.status] - SEVERITY[a.status] ||
    (b.levelCm ?? -1) - (a.levelCm ?? -1) ||
    a.name.localeCompare(b.name, 'ja')
  );
}

/**
 * @param {{ listEl: HTMLOListElement, store: ReturnType<import('./sensor-store.js').createSensorStore>,
 *           now: () => number, onSelect: (id: string) => void }} deps
 */
export function createListView(deps) {
  const { listEl, store } = deps;
  /** @type {Map<string, {li: HTMLLIElement, btn: HTMLButtonElement, sym: SVGElement, name: HTMLElement, addr: HTMLElement, status: HTMLElement, level: HTMLElement, time: HTMLElement, key: string}>} */
  const rows = new Map();
  let order = [];

  function makeRow(s) {
    const li = document.createElement('li');
    li.className = 'row';
    li.innerHTML =
      `<button type="button" class="row-btn">${symbolSvg(s.status)}` +
      '<span class="row-main"><span class="row-name"></span><span class="row-addr"></span></span>' +
      '<span class="row-side"><span class="row-status"></span><span class="row-level"></span><span class="row-time"></span></span></button>';
    const btn = /** @type {HTMLButtonElement} */ (li.firstElementChild);
    btn.dataset.sensorId = s.id;
    btn.addEventListener('click', () => deps.onSelect(s.id));
    const q = (c) => /** @type {HTMLElement} */ (li.querySelector(c));
    return { li, btn, sym: q('.sym'), name: q('.row-name'), addr: q('.row-addr'), status: q('.row-status'), level: q('.row-level'), time: q('.row-time'), key: '' };
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function update(row, s, now) {
    if (row.btn.dataset.status !== s.status) {
      row.btn.dataset.status = s.status;
      row.li.dataset.status = s.status;
      setSymbol(row.sym, s.status);
    }
    setText(row.name, sensorName(s));
    setText(row.addr, s.address ?? '');
    setText(row.status, t(`status.${s.status}`));
    setText(row.level, formatLevel(s.levelCm));
    setText(row.time, s.observedAtMs === null ? '' : relativeTime(s.observedAtMs, now));
  }

  function reorder() {
    const sorted = [...store.all()].sort(compareSensors);
    const changed = sorted.length !== order.length || sorted.some((s, i) => s.id !== order[i]);
    if (!changed) return;
    order = sorted.map((s) => s.id);
    const frag = document.createDocumentFragment();
    for (const id of order) {
      const row = rows.get(id);
      if (row) frag.appendChild(row.li);
    }
    listEl.appendChild(frag);
  }

  function renderAll() {
    const now = deps.now();
    for (const [id, row] of rows) if (!store.get(id)) (row.li.remove(), rows.delete(id));
    for (const s of store.all()) {
      let row = rows.get(s.id);
      if (!row) rows.set(s.id, (row = makeRow(s)));
      update(row, s, now);
    }
    order = [];
    reorder();
  }

  store.subscribe((change) => {
    if (change.full || change.tick) return renderAll();
    const now = deps.now();
    for (const id of change.ids) {
      const s = store.get(id);
      const row = rows.get(id);
      if (s && row) update(row, s, now);
    }
    reorder();
  });
  onLangChange(renderAll);
  return {
    focusRow(id) {
      rows.get(id)?.btn.focus();
    },
  };
}
