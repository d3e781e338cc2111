// The Leaflet map: one marker per sensor, styled by status. Loaded after the list, so a slow or
// failed map never hides the data.
import { formatLevel, onLangChange, t } from './i18n.js';
import { sensorName } from './list-view.js';
import { SEVERITY } from './sensor-store.js';
import { leafletUrl } from '../shared/messages.js';

/** Versioned URL: cached for a year (services/api/static-cache.ts). */
const LEAFLET_JS = leafletUrl('leaflet.js');
const LEAFLET_CSS = leafletUrl('leaflet.css');

/** Load Leaflet's script and stylesheet once; resolves with window.L. */
export function loadLeaflet() {
  return new Promise((resolve, reject) => {
    if (window.L) return resolve(window.L);
    // 2-D positioning: with 3-D transforms every one of 1,000 markers becomes its own compositing
    // layer, which made each live update cost seconds of paint without a GPU (test/bench/map.bench.ts).
    /** @type {Window & { L_DISABLE_3D?: boolean }} */ (window).L_DISABLE_3D = true;
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = LEAFLET_CSS;
    document.head.appendChild(css);
    const js = document.createElement('script');
    js.src = LEAFLET_JS;
    js.onload = () => resolve(window.L);
    js.onerror = () => reject(new Error('leaflet failed to load'));
    document.head.appendChild(js);
  });
}

/**
 * What the map reads of a store: the public map's whole store, or the embed's chosen sensors.
 * @typedef {Pick<import('./sensor-store.js').SensorStore, 'get' | 'subscribe'> & { all(): Iterable<import('./sensor-store.js').SensorView> }} MapStore
 */

/**
 * @param {{ L: typeof import('leaflet'), container: HTMLElement, note: HTMLElement, config: any, store: MapStore,
 *           onSelect: (id: string) => void }} deps
 */
export function createMapView(deps) {
  const { L, store, config } = deps;
  // No fade or zoom animations: they put tiles and markers on their own compositing layers
  // (will-change), and re-layering 1,000 markers on every live update cost seconds without a GPU.
  const map = L.map(deps.container, { zoomControl: true, attributionControl: true, fadeAnimation: false, zoomAnimation: false, markerZoomAnimation: false }).setView(config.map.center, config.map.zoom);
  const tiles = L.tileLayer(config.map.tile_url, { attribution: config.map.attribution, maxZoom: 19 }).addTo(map);
  let tileErrors = 0;
  let tileLoads = 0;
  tiles.on('tileerror', () => {
    // With no tiles the markers still show; say why the background is blank.
    if (++tileErrors >= 4 && tileLoads === 0) {
      deps.note.textContent = t('tilesUnavailable');
      deps.note.hidden = false;
    }
  });
  tiles.on('tileload', () => {
    tileLoads++;
    deps.note.hidden = true;
  });
  onLangChange(() => {
    if (!deps.note.hidden) deps.note.textContent = t('tilesUnavailable');
  });

  /** @typedef {{marker: L.Marker, el: HTMLElement|null, status: string, label: string}} Entry */
  /** @type {Map<string, Entry>} */
  const markers = new Map();
  let fitted = false;

  /**
   * @param {import('./sensor-store.js').SensorView} s
   */
  function label(s) {
    const text = t('markerLabel', { name: sensorName(s), status: t(`status.${s.status}`), level: formatLevel(s.levelCm, s.stages, s.site) });
    return s.closure ? `${text}. ${t('closureLabel')}` : text;
  }

  /**
   * A road closed by the city (issue 13): a ⛔ badge on the marker, beside its status symbol.
   * @param {HTMLElement} el
   * @param {import('./sensor-store.js').SensorView} s
   */
  function setClosed(el, s) {
    if (s.closure) el.dataset.closed = 'true';
    else delete el.dataset.closed;
  }

  /**
   * Issue 12: the place name beside each marker, shown by CSS from LABEL_ZOOM on (hidden labels cost no layout).
   * @param {HTMLElement} el
   * @param {import('./sensor-store.js').SensorView} s
   */
  function setLabel(el, s) {
    let span = /** @type {HTMLElement|null} */ (el.firstElementChild);
    if (!span) {
      span = document.createElement('span');
      span.className = 'mk-label';
      span.setAttribute('aria-hidden', 'true'); // the marker's aria-label already says it
      el.append(span);
    }
    const name = sensorName(s);
    if (span.textContent !== name) span.textContent = name;
  }

  /**
   * @param {Entry} entry
   * @param {import('./sensor-store.js').SensorView} s
   */
  function decorate(entry, s) {
    const el = entry.marker.getElement();
    if (!el) return;
    entry.el = el;
    setLabel(el, s);
    el.dataset.sensorId = s.id;
    el.dataset.status = s.status;
    setClosed(el, s);
    const text = label(s);
    el.setAttribute('aria-label', text);
    entry.label = text;
    entry.status = s.status;
  }

  /**
   * @param {Entry} entry
   * @param {import('./sensor-store.js').SensorView} s
   */
  function update(entry, s) {
    const el = entry.el;
    if (!el) return decorate(entry, s);
    if (entry.status !== s.status) {
      entry.status = s.status;
      el.dataset.status = s.status; // the symbol is a CSS background chosen by data-status
      entry.marker.setZIndexOffset(SEVERITY[s.status] * 1000);
    }
    setClosed(el, s);
    const text = label(s);
    if (text !== entry.label) {
      entry.label = text;
      el.setAttribute('aria-label', text);
      setLabel(el, s);
    }
  }

  /**
   * @param {import('./sensor-store.js').SensorView} s
   */
  function add(s) {
    const icon = L.divIcon({ className: 'mk ico', html: '', iconSize: [30, 30], iconAnchor: [15, 15] });
    const marker = L.marker([s.lat, s.lon], { icon, keyboard: true, zIndexOffset: SEVERITY[s.status] * 1000, riseOnHover: true });
    marker.on('click', () => deps.onSelect(s.id));
    const entry = { marker, el: null, status: s.status, label: '' };
    markers.set(s.id, entry);
    marker.addTo(map);
    decorate(entry, s);
  }

  function renderAll() {
    for (const [id, entry] of markers) if (!store.get(id)) (entry.marker.remove(), markers.delete(id));
    /** @type {L.LatLngTuple[]} */
    const latlngs = [];
    for (const s of store.all()) {
      const entry = markers.get(s.id);
      if (!entry) add(s);
      else {
        entry.marker.setLatLng([s.lat, s.lon]);
        update(entry, s);
      }
      latlngs.push([s.lat, s.lon]);
    }
    if (latlngs.length && !performance.getEntriesByName('kansui:markers-added').length) {
      performance.mark('kansui:markers-added'); // placeholder so this runs once
      requestAnimationFrame(() => setTimeout(() => performance.mark('kansui:markers')));
    }
    if (!fitted && latlngs.length) {
      fitted = true;
      map.fitBounds(latlngs, { padding: [24, 24], maxZoom: 15 });
    }
  }

  store.subscribe((change) => {
    if (change.full) return renderAll();
    for (const id of change.ids) {
      const s = store.get(id);
      const entry = markers.get(id);
      if (s && entry) update(entry, s);
    }
  });
  onLangChange(() => {
    for (const [id, entry] of markers) {
      const s = store.get(id);
      if (s) update(entry, s);
    }
  });
  renderAll();

  // Issue 12: names beside the markers where they help, at street-level zooms, not over a whole city.
  const LABEL_ZOOM = 15;
  const showLabels = () => (deps.container.dataset.labels = String(map.getZoom() >= LABEL_ZOOM));
  map.on('zoomend', showLabels);
  showLabels();
  /** @type {L.LayerGroup | null} */
  let here = null;

  return {
    map,
    /** Issue 12: "show all" after looking at one sensor. */
    showAll() {
      const latlngs = [...store.all()].map((s) => /** @type {L.LatLngTuple} */ ([s.lat, s.lon]));
      if (latlngs.length) map.fitBounds(latlngs, { padding: [24, 24], maxZoom: 15, animate: false });
    },
    /**
     * Issue 12: the resident's own position (現在地), marked and centred at street level.
     * @param {number} lat
     * @param {number} lon
     * @param {number} accuracyM
     */
    showPosition(lat, lon, accuracyM) {
      here?.remove();
      const dot = L.circleMarker([lat, lon], { radius: 9, color: '#0057b8', weight: 3, fillColor: '#fff', fillOpacity: 1, interactive: false });
      const circle = accuracyM > 0 && accuracyM < 2000 ? [L.circle([lat, lon], { radius: accuracyM, color: '#0057b8', weight: 1, fillOpacity: 0.08, interactive: false })] : [];
      here = L.layerGroup([...circle, dot]).addTo(map);
      map.setView([lat, lon], Math.max(map.getZoom(), LABEL_ZOOM), { animate: false });
    },
    /**
     * Centre on a sensor (share links, selection from the list), in the part
     * of the map the panel `cover` (an element, e.g. the open panel) leaves visible.
     * @param {string} id
     * @param {HTMLElement} [cover]
     */
    focus(id, cover) {
      const s = store.get(id);
      if (!s) return;
      fitted = true;
      map.setView([s.lat, s.lon], Math.max(map.getZoom(), 16), { animate: false });
      const box = deps.container.getBoundingClientRect();
      const over = cover && !cover.hidden ? cover.getBoundingClientRect() : null;
      if (!over || !box.width) return;
      // Panel at the right (desktop): shift left; panel at the bottom (phone): shift up.
      const dx = over.left > box.left + box.width / 3 ? Math.max(0, box.right - over.left) / 2 : 0;
      const dy = dx === 0 && over.top > box.top ? Math.max(0, box.bottom - over.top) / 2 : 0;
      if (dx || dy) map.panBy([dx, dy], { animate: false });
    },
    /** Leaflet measures its container; call after the container was hidden and shown again. */
    resize() {
      map.invalidateSize();
    },
  };
}
