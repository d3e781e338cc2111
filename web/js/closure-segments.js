// Road segments the city closed (issue 13): red dashed lines on the map, and the same as text
// above the list (a line on a map alone is not accessible). A fact the city set, apart from
// what any sensor measures. Fed by GET /api/closures, refreshed on the stream's `closure` event.
import { onLangChange, t } from './i18n.js';
import { esc } from '../shared/messages.js';

/** @param {{ listEl: HTMLElement }} deps the element the text list goes before */
export function createClosureSegments(deps) {
  /**
   * The city's closed stretches of road (GET /api/closures, issue 13): only closures with a drawn segment.
   * @type {{ id: string, reason: string, segment: { name: string, geometry: { coordinates: [number, number][] } } }[]}
   */
  let segments = [];
  /** @type {typeof import('leaflet') | undefined} */
  let L;
  /** @type {import('leaflet').LayerGroup | undefined} */
  let layer;
  const box = document.createElement('section');
  box.className = 'closure-segments';
  box.id = 'closure-segments';
  box.hidden = true;
  deps.listEl.before(box);

  function renderText() {
    box.hidden = segments.length === 0;
    box.innerHTML = segments.length
      ? `<h3>⛔ ${esc(t('closureSegments'))}</h3><ul>${segments.map((c) => `<li data-closure-id="${esc(c.id)}"><strong>${esc(c.segment.name)}</strong>：${esc(c.reason)}</li>`).join('')}</ul>`
      : '';
  }

  function draw() {
    if (!layer || !L) return;
    layer.clearLayers();
    for (const c of segments) {
      const line = L.polyline(
        c.segment.geometry.coordinates.map(([lon, lat]) => /** @type {[number, number]} */ ([lat, lon])),
        { color: '#b00020', weight: 7, opacity: 0.9, dashArray: '10 8', className: 'closure-segment' },
      );
      line.bindTooltip(`⛔ ${t('closureLabel')}: ${c.segment.name}（${c.reason}）`, { sticky: true });
      line.addTo(layer);
      line.getElement()?.setAttribute('data-closure-id', c.id);
    }
  }

  async function refresh() {
    try {
      const res = await fetch('/api/closures', { headers: { Accept: 'application/json' } });
      if (!res.ok) return;
      segments = (await res.json()).closures.filter((/** @type {{ segment?: unknown }} */ c) => c.segment);
    } catch {
      return; // offline: keep what is shown
    }
    renderText();
    draw();
  }

  onLangChange(() => (renderText(), draw()));
  refresh();
  return {
    refresh,
    /**
     * Draw on the Leaflet map once it exists.
     * @param {typeof import('leaflet')} leaflet
     * @param {import('leaflet').Map} map
     */
    attach(leaflet, map) {
      L = leaflet;
      layer = leaflet.layerGroup().addTo(map);
      draw();
    },
  };
}
