/**
 * Cache-Control for what a CDN or nginx in front may share (issue 15: during a
 * typhoon the map is linked from TV, the city site and LINE, and a shared cache
 * must absorb the surge). Browsers always revalidate (`max-age=0`, with the
 * ETag a 304 costs almost nothing); shared caches keep a copy `s-maxage`
 * seconds and may hand out an older one for `stale-while-revalidate` more while
 * they fetch a new one (RFC 9111 §5.2.2.10; RFC 5861). The freshness this costs
 * is in docs/scaling.md.
 *
 * Nothing here can make stale data look fresh: every sensor in /api/sensors
 * carries the time of its reading, the map judges "offline" from that time and
 * the server's clock (web/js/api.js corrects a cached `Date` by its `Age`), and
 * its live/not-live state comes from the event stream, which is never cached.
 */
export const CACHE_POLICY = {
  /**
   * `/api/sensors`: at most 2 s in a shared cache plus 8 s stale while one
   * request refreshes it, so a viewer's first paint is at most ~10 s behind
   * (then live over SSE). `stale-if-error`: if kansui is down, a CDN keeps
   * serving the last map for 5 min, shown as not live (the stream is down).
   */
  sensors: 'public, max-age=0, s-maxage=2, stale-while-revalidate=8, stale-if-error=300',
  /** Open-data GeoJSON: reusers may keep it a minute (docs/open-data.md); shared caches as /api/sensors. */
  openGeoJson: 'public, max-age=60, s-maxage=2, stale-while-revalidate=8, stale-if-error=300',
  /**
   * The page's own HTML, JS and CSS (unversioned URLs that change on deploy):
   * shared caches a minute, then a minute stale while refreshing, so a deploy
   * reaches every viewer within about 2 minutes.
   */
  staticFiles: 'public, max-age=0, s-maxage=60, stale-while-revalidate=60',
  /** Versioned vendor files (`/vendor/leaflet-1.9.4/`): a year, never revalidated. */
  immutable: 'public, max-age=31536000, immutable',
} as const;
