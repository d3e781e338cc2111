// The board's map for the wall screen (issue 13): the same sensors as the list, coloured by
// status (with the status word in a permanent label, never colour alone), ⛔ where the city
// closed the road. Leaflet is already on the console page; tiles may not load (then the
// markers still show on a plain background).

/** @type {Record<string, string>} */
const COLOURS = { normal: '#009E73', caution: '#F0E442', warning: '#E69F00', danger: '#D55E00', offline: '#BBBBBB' };

/** @type {Promise<{ center: [number, number], zoom: number, tile_url: string, attribution: string }> | undefined} */
let configPromise;
function mapConfig() {
  configPromise ??= fetch('/api/config').then((r) => r.json()).then((c) => c.map);
  return configPromise;
}

/** @typedef {{ sensor_id: string, name: string, name_en?: string | null, lat: number, lon: number, status: string, closure?: any, [k: string]: any }} BoardItem a board entry (GET /api/board) */

/**
 * @param {HTMLElement} el
 * @param {{ onSelect: (sensorId: string) => void }} deps
 */
export function createBoardMap(el, deps) {
  /** @type {L.Map | undefined} */
  let map;
  /** @type {L.LayerGroup | undefined} */
  let layer;
  /** @type {BoardItem[] | undefined} */
  let pending;
  let fitted = false;

  async function ensure() {
    if (map || !window.L) return map;
    const cfg = await mapConfig();
    if (map) return map;
    map = window.L.map(el, { fadeAnimation: false, zoomAnimation: false }).setView(cfg.center, cfg.zoom);
    window.L.tileLayer(cfg.tile_url, { attribution: cfg.attribution, maxZoom: 19 }).addTo(map);
    layer = window.L.layerGroup().addTo(map);
    return map;
  }

  /**
   * @param {BoardItem[]} items
   */
  function draw(items) {
    if (!map || !layer) return;
    const group = layer;
    layer.clearLayers();
    /** @type {L.LatLngTuple[]} */
    const points = [];
    for (const it of items) {
      const colour = COLOURS[it.status] ?? COLOURS.offline;
      const m = window.L.circleMarker([it.lat, it.lon], { radius: it.status === 'danger' ? 14 : 11, color: it.closure ? '#b00020' : '#111', weight: it.closure ? 5 : 2, fillColor: colour, fillOpacity: 0.95 });
      const depth = it.level_cm === null ? '' : it.site === 'river' ? `${(it.level_cm / 100).toFixed(2)} m` : `${it.level_cm} cm`;
      const label = `${it.closure ? '⛔ ' : ''}${it.name} ${depth} ${it.status_name?.ja ?? ''}`;
      m.bindTooltip(label, { permanent: true, direction: 'right', className: `board-tip board-tip-${it.status}` });
      m.on('click', () => deps.onSelect(it.sensor_id));
      m.addTo(group);
      const dom = m.getElement?.();
      if (dom instanceof HTMLElement) {
        dom.dataset.sensorId = it.sensor_id;
        dom.dataset.status = it.status;
      }
      points.push([it.lat, it.lon]);
    }
    el.dataset.markers = String(items.length);
    if (points.length && !fitted) {
      map.fitBounds(points, { padding: [40, 40], maxZoom: 15 });
      fitted = true;
    }
  }

  return {
    /**
     * @param {BoardItem[]} items
     */
    async show(items) {
      pending = items;
      await ensure();
      if (!map) return;
      map.invalidateSize();
      draw(pending);
    },
    destroy() {
      map?.remove();
      map = undefined;
    },
  };
}
