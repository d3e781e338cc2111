// Service worker: the page opens without a connection, with the last sensor data it saw,
// clearly marked as not live (the page reads X-Kansui-Cached-At). Also shows push alerts.
//
// Strategy (docs/map.md): network first for everything, so online users always get fresh
// files and data; the cache is only the fallback. Versioned vendor files never change, so
// they are served from the cache first. The live stream and other API calls are never cached.

/** The worker's own scope, typed (a classic script cannot declare it otherwise). */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const CACHE = 'kansui-map-v1';
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/icons/icon.svg',
  '/js/main.js',
  '/js/closure-segments.js',
  '/js/api.js',
  '/js/as-of.js',
  '/js/city-links.js',
  '/js/search.js',
  '/js/conn-banner.js',
  '/js/i18n.js',
  '/js/level-chart.js',
  '/js/level-gauge.js',
  '/js/legend.js',
  '/js/list-view.js',
  '/js/live-stream.js',
  '/js/map-view.js',
  '/js/notify.js',
  '/js/sensor-panel.js',
  '/js/sensor-store.js',
  '/js/summary-bar.js',
  '/shared/messages.js',
  // Leaflet's versioned files: the pages register this worker as /sw.js?leaflet=<version>, from the
  // one place that names the version (web/shared/messages.js; a classic worker cannot import it).
  ...leafletFiles(new URL(location.href).searchParams.get('leaflet')),
  // Last-known data from the first visit on; refreshed by every online load (network first).
  '/api/sensors',
  '/api/config',
];
/**
 * @param {string | null} version
 * @returns {string[]}
 */
function leafletFiles(version) {
  return version && /^[\w.-]+$/.test(version) ? [`/vendor/leaflet-${version}/leaflet.js`, `/vendor/leaflet-${version}/leaflet.css`] : [];
}
/** API responses kept as "last known": the sensor states and the map settings. */
const CACHED_API = new Set(['/api/sensors', '/api/config']);

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

/**
 * Re-wrap a cached API response so the page knows it is an old copy, and from when.
 * @param {Response} res
 */
async function markCached(res) {
  const headers = new Headers(res.headers);
  headers.set('X-Kansui-Cached-At', String(Date.parse(res.headers.get('Date') ?? '') || Date.now()));
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers });
}

/**
 * @param {Request} request
 * @param {boolean} isApi
 */
async function networkFirst(request, isApi) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (res.ok) cache.put(isApi ? new URL(request.url).pathname : request, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(isApi ? new URL(request.url).pathname : request, { ignoreSearch: !isApi });
    if (!hit) throw err;
    return isApi ? markCached(hit) : hit;
  }
}

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return; // map tiles: the browser's own HTTP cache only
  if (url.pathname.startsWith('/vendor/leaflet-')) {
    event.respondWith(caches.match(req).then((hit) => hit ?? fetch(req)));
    return;
  }
  if (url.pathname.startsWith('/api/')) {
    if (CACHED_API.has(url.pathname)) event.respondWith(networkFirst(req, true));
    return; // /api/events and the rest: straight to the network
  }
  if (url.pathname.startsWith('/console')) return;
  if (req.mode === 'navigate') {
    event.respondWith(networkFirst(req, false).catch(async () => (await caches.match('/')) ?? Response.error()));
    return;
  }
  event.respondWith(networkFirst(req, false));
});

// --- Web Push (payload from the alerts module): {title, body, sensor_id?, status?, url?, tag?}
sw.addEventListener('push', (event) => {
  /** @type {{ title?: string, body?: string, sensor_id?: string, status?: string, url?: string, tag?: string }} */
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data?.text() };
  }
  const url = data.url ?? (data.sensor_id ? `/#sensor=${encodeURIComponent(data.sensor_id)}` : '/');
  // `renotify` (alert again for the same tag) is in the Notifications standard but not yet in TypeScript's types.
  /** @type {NotificationOptions & { renotify: boolean }} */
  const options = {
    body: data.body ?? '',
    tag: data.tag ?? data.sensor_id ?? 'kansui',
    renotify: true,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url },
  };
  event.waitUntil(sw.registration.showNotification(data.title ?? '冠水マップ', options));
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url ?? '/', location.origin).href;
  event.waitUntil(
    sw.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((wins) => {
      const win = wins.find((w) => new URL(w.url).origin === location.origin);
      if (win) return win.navigate(target).then((w) => (w ?? win).focus());
      return sw.clients.openWindow(target);
    }),
  );
});
