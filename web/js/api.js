// The public HTTP API, and the server clock as seen from this device.

/** Server clock minus device clock (ms). Phones' clocks can be minutes off; offline rules use the server's. */
let clockOffsetMs = 0;

export function serverNow() {
  return Date.now() + clockOffsetMs;
}

/**
 * Learn the offset from a live response's Date header (RFC 9110 §6.6.1,
 * one-second resolution, so +500 ms is the expected truncation). A copy from a
 * CDN or nginx keeps the Date it was made with and says how old it is in Age
 * (RFC 9111 §5.1): without adding it the clock would run behind and sensors
 * would look fresher than they are.
 * @param {Response} res
 * @param {number} sentAt when the request left (ms)
 */
function learnClock(res, sentAt) {
  const made = Date.parse(res.headers.get('Date') ?? '');
  if (Number.isNaN(made)) return;
  const age = Number(res.headers.get('Age') ?? 0);
  const date = made + (Number.isFinite(age) && age > 0 ? age * 1000 : 0);
  const receivedAt = Date.now();
  clockOffsetMs = date + 500 - (sentAt + receivedAt) / 2;
}

/**
 * @param {string} url
 * @param {RequestInit} [options]
 */
async function getJson(url, options) {
  const sentAt = Date.now();
  const res = await fetch(url, options);
  if (!res.ok) throw Object.assign(new Error(`${url}: HTTP ${res.status}`), { status: res.status });
  // The service worker marks copies it served from its cache (sw.js): not live.
  const cachedAt = res.headers.get('X-Kansui-Cached-At');
  if (!cachedAt) learnClock(res, sentAt);
  return { body: await res.json(), cachedAt: cachedAt ? Number(cachedAt) : null };
}

/**
 * GET /api/sensors → { features, cachedAt } where cachedAt is set when the data is an offline copy.
 * `no-cache`: the browser always asks (a 304 is cheap) instead of using its own copy for
 * stale-while-revalidate's seconds; a CDN in front still answers from its copy (docs/scaling.md).
 */
export async function fetchSensors() {
  const { body, cachedAt } = await getJson('/api/sensors', { cache: 'no-cache' });
  return { features: body.features, cachedAt };
}

/** GET /api/config → { map: { tile_url, attribution, center, zoom }, time_zone }. */
export async function fetchConfig() {
  return (await getJson('/api/config')).body;
}

/**
 * GET /api/sensors/{id}/readings for the last `hours`; long ranges are
 * downsampled on the server to the maximum per bucket, so peaks survive.
 * @param {string} id
 * @param {number} hours
 */
export async function fetchReadings(id, hours) {
  const to = serverNow();
  const from = to - hours * 3600_000;
  const bucket = hours > 48 ? '&bucket=1800' : '';
  const { body } = await getJson(`/api/sensors/${encodeURIComponent(id)}/readings?from=${Math.round(from)}&to=${Math.round(to)}${bucket}`);
  return { from, to, points: body.readings.map((/** @type {{ ts: string, level_cm: number }} */ r) => ({ t: Date.parse(r.ts), v: r.level_cm })) };
}
