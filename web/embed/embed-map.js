// The embed's small map (issue 12: `/embed?…&view=map`): the chosen sensors as markers above the
// compact list, which stays as the text alternative. The map's own module (map-view.js) draws the
// markers, so their status, words and freshness are the map's; loaded only when asked for, so the
// list view's weight is unchanged. A tap opens the full map at that sensor in a new tab.
import { fetchConfig } from '../js/api.js';
import { setTimeZone, t } from '../js/i18n.js';
import { createMapView, loadLeaflet } from '../js/map-view.js';

/**
 * @param {{ before: HTMLElement, store: import('../js/sensor-store.js').SensorStore, chosen: () => import('../js/sensor-store.js').SensorView[] }} deps
 *   `before`: the element the map goes above; `chosen`: the sensors the embed shows, in its order.
 */
export async function mountEmbedMap(deps) {
  const box = document.createElement('div');
  box.className = 'map-box';
  const container = document.createElement('div');
  container.id = 'map';
  container.className = 'map';
  const note = document.createElement('p');
  note.className = 'map-note';
  note.hidden = true;
  box.append(container, note);
  deps.before.before(box);
  try {
    const [config, L] = await Promise.all([fetchConfig(), loadLeaflet()]);
    setTimeZone(config.time_zone);
    // Only the chosen sensors; a change of which they are (e.g. the worst N) redraws them all.
    let ids = '';
    const changedSet = () => {
      const next = deps.chosen().map((s) => s.id).join(',');
      const changed = next !== ids;
      ids = next;
      return changed;
    };
    const view = {
      all: () => deps.chosen(),
      get: (/** @type {string} */ id) => (deps.chosen().some((s) => s.id === id) ? deps.store.get(id) : undefined),
      subscribe: (/** @type {(change: import('../js/sensor-store.js').StoreChange) => void} */ fn) => deps.store.subscribe((change) => fn(changedSet() || change.full ? { ...change, full: true } : change)),
    };
    changedSet();
    createMapView({
      L, container, note, config, store: view,
      onSelect: (id) => window.open(`/#sensor=${encodeURIComponent(id)}`, '_blank', 'noopener'),
    });
    document.body.dataset.map = 'ready';
  } catch {
    // No Leaflet or no config: the list below still says everything.
    note.textContent = t('mapUnavailable');
    note.hidden = false;
    document.body.dataset.map = 'failed';
  }
}
