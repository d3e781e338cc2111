import { h } from './dom.js';

/** @type {Promise<{ center: [number, number], zoom: number, tile_url: string, attribution: string }> | undefined} */
let configPromise;
function mapConfig() {
  configPromise ??= fetch('/api/config').then((r) => r.json()).then((c) => c.map);
  return configPromise;
}

/**
 * A Leaflet map where a click places the sensor. Typing in the lat/lon
 * inputs moves the marker too. Tiles come from MAP_TILE_URL; when they do
 * not load (offline, tests) the map still takes clicks.
 *
 * @param {{ lat: HTMLInputElement, lon: HTMLInputElement }} inputs
 */
export function mapPicker(inputs) {
  const el = h('div', { class: 'map-picker', id: 'map-picker', role: 'application', 'aria-label': 'map' });
  /** @type {L.Map | undefined} */
  let map;
  /** @type {L.CircleMarker | undefined} */
  let marker;

  /**
   * @param {number} lat
   * @param {number} lon
   * @param {boolean} [pan]
   */
  function place(lat, lon, pan) {
    if (!map || !Number.isFinite(lat) || !Number.isFinite(lon)) return;
    if (!marker) marker = window.L.circleMarker([lat, lon], { radius: 9, color: '#0b3d5c', weight: 3, fillColor: '#E69F00', fillOpacity: 0.9 }).addTo(map);
    else marker.setLatLng([lat, lon]);
    if (pan) map.panTo([lat, lon]);
  }

  // Leaflet needs the element in the document with a size: start after it is attached.
  queueMicrotask(async () => {
    const cfg = await mapConfig();
    const L = window.L;
    /** @type {L.LatLngTuple} */
    const start = inputs.lat.value && inputs.lon.value ? [Number(inputs.lat.value), Number(inputs.lon.value)] : cfg.center;
    map = L.map(el, { center: start, zoom: inputs.lat.value ? 16 : cfg.zoom });
    L.tileLayer(cfg.tile_url, { attribution: cfg.attribution, maxZoom: 19 }).addTo(map);
    map.on('click', (e) => {
      // 6 decimals ≈ 0.1 m: more than a phone's GPS can tell.
      inputs.lat.value = e.latlng.lat.toFixed(6);
      inputs.lon.value = e.latlng.lng.toFixed(6);
      inputs.lat.dispatchEvent(new Event('change'));
      place(e.latlng.lat, e.latlng.lng, false);
    });
    if (inputs.lat.value) place(Number(inputs.lat.value), Number(inputs.lon.value), false);
    el.dataset.ready = 'true';
  });
  const onType = () => place(Number(inputs.lat.value), Number(inputs.lon.value), true);
  inputs.lat.addEventListener('input', onType);
  inputs.lon.addEventListener('input', onType);
  return el;
}
