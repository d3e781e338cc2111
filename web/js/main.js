// The public flood map: wires the components. Order matters for speed on a weak connection:
// the sensor data request is already in flight (preload in index.html), the list renders from it
// and the four modules preloaded with it (one round of requests on slow 4G: browsers open six
// connections per host), and everything else (summary, banner, live stream, panel, Leaflet and
// the map) is imported right after, without holding up the first glance.
import { fetchConfig, fetchSensors, serverNow } from './api.js';
import { applyStaticText, getLang, onLangChange, setLang, setTimeZone, t } from './i18n.js';
import { createListView } from './list-view.js';
import { createSensorStore } from './sensor-store.js';
import { SERVICE_WORKER_URL } from '../shared/messages.js';

const VIEW_KEY = 'kansui.view';
/** Relative times ("3分前") and local offline checks refresh this often. */
const TICK_MS = 15_000;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

applyStaticText();
const store = createSensorStore({ now: serverNow });
const bannerReady = import('./conn-banner.js').then((m) => m.createConnBanner($('banner')));
/** Run `fn` with the banner once its module is in (calls keep their order). */
const withBanner = (/** @type {(banner: ReturnType<typeof import('./conn-banner.js').createConnBanner>) => void} */ fn) => void bannerReady.then(fn);
import('./summary-bar.js').then((m) => m.createSummaryBar($('summary'), store));
/** The page's "as of" time (issue 12); `freshAt` is when the data shown was last known current. */
/** @type {ReturnType<typeof import('./as-of.js').createAsOf> | null} */
let asOf = null;
let freshAt = /** @type {number|null} */ (null);
/**
 * @param {number} ms
 */
function markFresh(ms) {
  freshAt = ms;
  asOf?.set(ms, serverNow());
}
import('./as-of.js').then((m) => {
  const clock = m.createAsOf($('as-of'));
  asOf = clock;
  if (freshAt !== null) clock.set(freshAt, serverNow());
});

/** @type {ReturnType<typeof import('./sensor-panel.js').createSensorPanel> | null} */
let panel = null;
/** @type {ReturnType<typeof import('./map-view.js').createMapView> | null} */
let mapView = null;
const pending = { select: /** @type {string|null} */ (null) };

/**
 * @param {string} id
 * @param {{ fromHash?: boolean }} [options]
 */
function select(id, { fromHash = false } = {}) {
  if (!panel) {
    pending.select = id;
    return;
  }
  if (!panel.open(id)) return;
  if (!fromHash) history.replaceState(null, '', `#sensor=${encodeURIComponent(id)}`);
  mapView?.focus(id, $('panel'));
  $('show-all-btn').hidden = !mapView;
}

// --- issue 12: "show all" after looking at one sensor, 現在地 (the page works without it), place search
$('show-all-btn').addEventListener('click', () => {
  if (panel?.openId) panel.close();
  mapView?.showAll();
  $('show-all-btn').hidden = true;
});
$('locate-btn').addEventListener('click', () => {
  const note = $('map-note');
  note.textContent = t('locating');
  note.hidden = false;
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      note.hidden = true;
      mapView?.showPosition(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy);
      $('show-all-btn').hidden = !mapView;
    },
    () => {
      note.textContent = t('locateFailed');
      note.hidden = false;
    },
    { timeout: 15_000, maximumAge: 60_000 },
  );
});
function renderSearchPlaceholder() {
  /** @type {HTMLInputElement} */ ($('search')).placeholder = t('searchPlaceholder');
}
onLangChange(renderSearchPlaceholder);
renderSearchPlaceholder();

createListView({ listEl: /** @type {HTMLOListElement} */ ($('list')), store, now: serverNow, onSelect: (id) => select(id) });

// --- language toggle (remembered in localStorage by i18n.js)
const langBtn = $('lang-btn');
function renderLangButton() {
  langBtn.textContent = t('langButton');
  langBtn.lang = getLang() === 'ja' ? 'en' : 'ja';
}
langBtn.addEventListener('click', () => setLang(getLang() === 'ja' ? 'en' : 'ja'));
onLangChange(renderLangButton);
renderLangButton();

// --- legend (issue 12): each kind's levels, their depth where shared, and what to do at each
import('./legend.js').then((m) => m.createLegend($('legend'), store));

// --- map / list switch (remembered)
const main = $('main');
/**
 * @param {string} view 'map' or 'list'
 * @param {{ remember?: boolean }} [options]
 */
function setView(view, { remember = true } = {}) {
  main.dataset.view = view;
  for (const b of document.querySelectorAll('[data-view-btn]')) b.setAttribute('aria-pressed', String(b.getAttribute('data-view-btn') === view));
  try {
    if (remember) localStorage.setItem(VIEW_KEY, view);
  } catch {}
  if (view === 'map') mapView?.resize();
}
for (const b of document.querySelectorAll('[data-view-btn]')) b.addEventListener('click', () => setView(b.getAttribute('data-view-btn') ?? 'map'));
try {
  const saved = localStorage.getItem(VIEW_KEY);
  if (saved === 'list' || saved === 'map') setView(saved);
} catch {}

// --- data: first load, live stream, resync
let loaded = false;
let liveSince = Date.now();
let fromCache = false;
/** Stream events that arrive before the first snapshot are applied after it (none are lost). */
/** @type {['r' | 's' | 'c', any][]} reading, status or closure events */
let early = [];

async function loadSensors() {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetchSensors();
      store.replaceAll(r.features);
      const cachedAt = r.cachedAt;
      fromCache = cachedAt !== null;
      markFresh(cachedAt ?? serverNow());
      withBanner((banner) => {
        if (cachedAt !== null) banner.offlineCopy(cachedAt);
        else if (banner.mode === 'load-failed' || banner.mode === 'offline-copy') banner.live();
      });
      return;
    } catch {
      withBanner((banner) => banner.loadFailed());
      await new Promise((r) => setTimeout(r, Math.min(2000 * 2 ** attempt, 30_000)));
    }
  }
}

/** @type {import('./live-stream.js').LiveStream | null} */
let live = null;
import('./live-stream.js').then(({ connectLive }) => {
  live = connectLive({
    onReading(e) {
      if (!loaded) early.length < 10_000 && early.push(['r', e]); // beyond that, the reload after loading is as good
      else (store.applyReading(e), fromCache || markFresh(serverNow()));
    },
    onStatus(e) {
      if (!loaded) early.push(['s', e]);
      else store.applyStatus(e);
    },
    onClosure(e) {
      if (!loaded) early.push(['c', e]);
      else store.applyClosure(e);
      if (e.sensor_id === null) segmentsReady.then((s) => s.refresh()); // a drawn road segment (issue 13)
    },
    onResync() {
      if (loaded) loadSensors();
    },
    onState(state) {
      document.body.dataset.live = state;
      if (state === 'live') {
        liveSince = Date.now();
        // An offline copy is replaced by fresh data as soon as the server answers again.
        if (fromCache) loadSensors();
        else withBanner((banner) => banner.live());
      } else if (state === 'down') withBanner((banner) => banner.down(liveSince));
    },
  });
});
setInterval(() => {
  if (live?.state === 'live') liveSince = Date.now();
}, 5000);

const firstLoad = loadSensors().then(() => {
  loaded = true;
  for (const [kind, e] of early) kind === 'r' ? store.applyReading(e) : kind === 'c' ? store.applyClosure(e) : store.applyStatus(e);
  early = [];
  scheduleTick();
  openFromHash();
  openOnListWhenSerious();
});

// --- issue 12: on a phone, open on the list (worst first) when any sensor is at 警戒 or above,
// unless a link asked for one sensor. Not remembered: the next calm visit opens as the user left it.
function openOnListWhenSerious() {
  if (location.hash || !matchMedia('(max-width: 899px)').matches) return;
  // Spread first: Iterator.prototype.some is too new for the phones this page is for (Safari before 18.4).
  const serious = [...store.all()].some((s) => s.status === 'warning' || s.status === 'danger');
  if (serious && main.dataset.view !== 'list') setView('list', { remember: false });
}

// --- freshness: tick for relative times, and exactly at the next offline boundary
/** @type {ReturnType<typeof setTimeout> | undefined} */
let tickTimer;
function scheduleTick() {
  clearTimeout(tickTimer);
  const untilBoundary = store.nextBoundary() - serverNow();
  tickTimer = setTimeout(() => {
    store.tick();
    // Live: the data is current now. Down or an offline copy: the time stays where it was last true.
    if (live?.state === 'live' && !fromCache) markFresh(serverNow());
    scheduleTick();
  }, Math.max(50, Math.min(TICK_MS, untilBoundary + 20)));
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') (store.tick(), scheduleTick());
});

// --- share links: #sensor=ID opens the map on that sensor
function openFromHash() {
  const m = /^#sensor=(.+)$/.exec(location.hash);
  if (m) select(decodeURIComponent(m[1]), { fromHash: true });
}
addEventListener('hashchange', openFromHash);

// --- everything below is not needed for the first glance: load it once the data is in. On slow
// 4G every request shares 1.6 Mbps, so fetching Leaflet (43 KB) earlier delays the list itself.
const afterFirstLoad = Promise.race([firstLoad, new Promise((r) => setTimeout(r, 5000))]);
afterFirstLoad.then(() => import('./search.js')).then(({ createSearch }) => {
  createSearch({ form: /** @type {HTMLFormElement} */ ($('search-form')), input: /** @type {HTMLInputElement} */ ($('search')), count: $('search-count'), listEl: $('list'), store, onSelect: (id) => select(id) });
});
afterFirstLoad.then(() => Promise.all([import('./sensor-panel.js'), import('./notify.js')])).then(([{ createSensorPanel }, { createNotify }]) => {
  const notify = createNotify({
    button: /** @type {HTMLButtonElement} */ ($('notify-btn')),
    dialog: /** @type {HTMLDialogElement} */ ($('notify-dialog')),
    store,
    onChange: () => panel?.openId && panel.open(panel.openId),
  });
  panel = createSensorPanel({
    el: $('panel'),
    store,
    now: serverNow,
    notify,
    onClose() {
      history.replaceState(null, '', location.pathname + location.search);
    },
  });
  applyStaticText($('panel'));
  onLangChange(() => applyStaticText($('panel')));
  placePanelLinks();
  if (pending.select) select(pending.select);
});

const mapModule = afterFirstLoad.then(() => import('./map-view.js'));
const leaflet = mapModule.then((m) => m.loadLeaflet());
const configReady = fetchConfig();
// Issue 12: the city's links (避難情報, ハザードマップ, 避難所, disaster page) in the footer and the panel,
// whether or not the map itself can load.
/** @type {{ render: (el: HTMLElement) => void } | null} */
let cityLinks = null;
function placePanelLinks() {
  if (!cityLinks || !panel || $('panel').querySelector('.panel-links')) return;
  const box = document.createElement('div');
  box.className = 'panel-links';
  $('panel').append(box);
  cityLinks.render(box);
}
Promise.all([configReady, import('./city-links.js')])
  .then(([config, { renderCityLinks }]) => {
    renderCityLinks($('foot-city-links'), config.links);
    cityLinks = { render: (el) => renderCityLinks(el, config.links) };
    placePanelLinks();
  })
  .catch(() => {});
// Road segments the city closed (issue 13): text above the list at once, lines on the map once it exists.
const segmentsReady = import('./closure-segments.js')
  .then(({ createClosureSegments }) => createClosureSegments({ listEl: $('list') }))
  .catch(() => ({ refresh() {}, attach() {} })); // offline without a cached copy: the sensors' own closures still show
Promise.all([configReady, mapModule, leaflet])
  .then(([config, { createMapView }, L]) => {
    setTimeZone(config.time_zone);
    const view = createMapView({ L, container: $('map'), note: $('map-note'), config, store, onSelect: (id) => select(id) });
    mapView = view;
    $('locate-btn').hidden = !('geolocation' in navigator);
    if (panel?.openId) $('show-all-btn').hidden = false;
    segmentsReady.then((s) => s.attach(L, view.map)).catch(() => {});
    if (panel?.openId) view.focus(panel.openId, $('panel'));
    document.body.dataset.map = 'ready';
  })
  .catch(() => {
    // No Leaflet (offline without a cached copy) or no config: the list still has everything.
    const note = $('map-note');
    note.textContent = t('mapUnavailable');
    note.hidden = false;
    onLangChange(() => (note.textContent = t('mapUnavailable')));
    document.body.dataset.map = 'failed';
  });

// --- installable app: the service worker caches the shell and the last data (sw.js)
if ('serviceWorker' in navigator) {
  addEventListener('load', () => {
    navigator.serviceWorker.register(SERVICE_WORKER_URL).catch(() => {});
  });
}
