import { api, messageOf } from './api.js';
import { h, toast } from './dom.js';
import { t } from './i18n.js';

// Close a stretch of road that is not one sensor's (issue 13): tap points along the road on a
// map, name it, give the reason. The same POST /api/closures as a sensor's road.

/** @type {Promise<{ center: [number, number], zoom: number, tile_url: string, attribution: string }> | undefined} */
let configPromise;
function mapConfig() {
  configPromise ??= fetch('/api/config').then((r) => r.json()).then((c) => c.map);
  return configPromise;
}

/** @param {{ onDone: () => void }} deps */
export function segmentForm(deps) {
  /** @type {[number, number][]} [lon, lat] as GeoJSON has them */
  const points = [];
  /** @type {L.Map | undefined} */
  let map;
  /** @type {L.Polyline | undefined} */
  let line;
  const mapEl = h('div', { class: 'map-picker segment-map', id: 'segment-map', role: 'application', 'aria-label': t('segmentMapHint') });
  const count = h('span', { class: 'muted', id: 'segment-count' });
  const name = h('input', { id: 'segment-name', maxlength: 200, placeholder: t('segmentNameHint') });
  const reason = h('input', { id: 'segment-reason', maxlength: 500, placeholder: t('closureReason') });

  function redraw() {
    count.textContent = t('segmentPoints').replace('{n}', String(points.length));
    if (!map) return;
    const latlngs = points.map(([lon, lat]) => /** @type {L.LatLngTuple} */ ([lat, lon]));
    if (!line) line = window.L.polyline(latlngs, { color: '#b00020', weight: 6, dashArray: '10 8' }).addTo(map);
    else line.setLatLngs(latlngs);
  }

  queueMicrotask(async () => {
    const cfg = await mapConfig();
    map = window.L.map(mapEl, { center: cfg.center, zoom: cfg.zoom });
    window.L.tileLayer(cfg.tile_url, { attribution: cfg.attribution, maxZoom: 19 }).addTo(map);
    // 6 decimals ≈ 0.1 m: more than anyone can tap on a road.
    map.on('click', (e) => {
      points.push([Number(e.latlng.lng.toFixed(6)), Number(e.latlng.lat.toFixed(6))]);
      redraw();
    });
    mapEl.dataset.ready = 'true';
    redraw();
  });

  const el = h('form', {
    class: 'panel segment-form',
    id: 'segment-form',
    onsubmit: async (/** @type {SubmitEvent} */ e) => {
      e.preventDefault();
      if (points.length < 2) return toast(t('segmentTooShort'));
      if (!name.value.trim() || !reason.value.trim()) return toast(t('segmentNeedsText'));
      try {
        await api('POST', '/api/closures', { segment: { name: name.value.trim(), path: points }, reason: reason.value.trim() });
        deps.onDone();
      } catch (err) {
        toast(messageOf(err));
      }
    },
  },
    h('h2', {}, t('segmentClose')),
    h('p', { class: 'muted' }, t('segmentMapHint')),
    mapEl,
    h('div', { class: 'actions' }, count, h('button', { type: 'button', class: 'secondary', onclick: () => (points.pop(), redraw()) }, t('segmentUndo'))),
    h('div', {}, h('label', { for: 'segment-name' }, t('segmentName')), name),
    h('div', {}, h('label', { for: 'segment-reason' }, t('closureReasonLabel')), reason),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger', id: 'segment-submit' }, t('closureConfirm')), h('button', { type: 'button', class: 'secondary', onclick: () => deps.onDone() }, t('cancel'))),
  );
  return el;
}
