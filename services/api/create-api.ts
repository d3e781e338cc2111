import type { HttpBindings } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compress } from 'hono/compress';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createError } from '../core/errors.ts';
import type { Reading } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import { isPublicSensor, SensorId } from '../core/sensor.ts';
import type { PublicLink } from '../core/public-links.ts';
import { formatIso } from '../core/time.ts';
import { TimeParamSchema, validate } from '../core/validate.ts';
import type { Metrics } from '../metrics.ts';
import { authenticate, type AuthEnv, type Authenticator } from '../auth/middleware.ts';
import { errorBody, handleError } from './errors.ts';
import type { EventHub } from './event-hub.ts';
import { toFeature } from './geojson.ts';
import { createSensorsSnapshot, sendSnapshot, type SensorsSnapshot } from './sensors-snapshot.ts';
import { CACHE_POLICY } from './cache-policy.ts';
import { cacheStatic } from './static-cache.ts';
import { createSseFanout } from './sse-fanout.ts';
import { LEAFLET_VERSION as PAGES_LEAFLET_VERSION } from '../../web/shared/messages.js';

export interface ApiDeps {
  registry: SensorRegistry;
  store: ReadingStore;
  latest: ReadonlyMap<string, Reading>;
  hub: EventHub;
  metrics: Metrics;
  /** Component health for /healthz. */
  health: () => Promise<Record<string, boolean>>;
  timeZone: string;
  map: { tileUrl: string; attribution: string; center: [number, number]; zoom: number };
  /** The city's links for residents (issue 12: 避難情報, ハザードマップ, 避難所, disaster page), in /api/config. */
  publicLinks?: readonly PublicLink[];
  now?: () => number;
  log?: (err: Error) => void;
  /** Folder with the web front end; defaults to the repo's web/. */
  webDir?: string;
  /** How callers are recognised (bearer tokens, session cookies). */
  authenticators?: readonly Authenticator[];
  /**
   * App-wide middleware after authentication and before every route (CSRF
   * guard, security headers: services/console/create-console.ts).
   */
  middleware?: readonly MiddlewareHandler<AuthEnv>[];
  /** Route modules owned elsewhere (sensors admin, alerts, console…), mounted before the static files. */
  routes?: readonly ((app: Hono<AuthEnv>) => void)[];
  /** Shared cached `/api/sensors` body (also served as open data); created here when not given. */
  snapshot?: SensorsSnapshot;
  /** The road closure set by staff at a sensor (issue 13), for `GET /api/sensors/{id}`. */
  closureOf?: (sensorId: string) => import('../core/closure.ts').Closure | undefined;
  /** Issue 12: a sensor's trend (services/core/trend.ts), the same the snapshot shows. */
  trendOf?: (sensor: import('../core/sensor.ts').Sensor) => import('../core/trend.ts').Trend | undefined;
}

/** web/ beside services/ (sources), or dist/web/ beside dist/services/ (`npm run build` copies it there). */
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
/** Found by Node's resolution, so the same from services/ and from dist/services/ (issue 15). */
const LEAFLET_PACKAGE = createRequire(import.meta.url).resolve('leaflet/package.json');
const LEAFLET_DIR = join(dirname(LEAFLET_PACKAGE), 'dist') + sep;
/**
 * Leaflet is also served under a versioned path, cached for a year: the URL changes when the version does.
 * The pages name that version from web/shared/messages.js (issue 16); an install that differs would
 * leave them loading a path that does not exist, so it stops the service here, naming both.
 */
const LEAFLET_VERSION = (JSON.parse(readFileSync(LEAFLET_PACKAGE, 'utf8')) as { version: string }).version;
if (LEAFLET_VERSION !== PAGES_LEAFLET_VERSION) {
  throw new Error(`leaflet ${LEAFLET_VERSION} is installed but the pages load ${PAGES_LEAFLET_VERSION} (web/shared/messages.js LEAFLET_VERSION, package.json): change them together`);
}

/** Raw rows returned at most; wider ranges are downsampled into about this many buckets. */
const MAX_RAW_POINTS = 10_000;
const TARGET_BUCKETS = 2_000;
/** @hono/node-server's header saying the route wrote the answer itself (its RESPONSE_ALREADY_SENT). */
const ALREADY_SENT = [...RESPONSE_ALREADY_SENT.headers.keys()][0] as string;
const ReadingsQuery = z
  .object({
    from: TimeParamSchema.optional(),
    to: TimeParamSchema.optional(),
    bucket: z.coerce.number().int().min(1).max(86_400 * 31).optional(),
  })
  .strict();

/**
 * The HTTP app: public read API, SSE stream, health and metrics, the web
 * front end. Write routes are added by the modules that own them.
 */
export function createApi(deps: ApiDeps): Hono<AuthEnv> {
  const now = deps.now ?? Date.now;
  const app = new Hono<AuthEnv>();
  app.onError((err, c) => handleError(err, c, deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404));
  // Contract: request bodies are small JSON; cap them before they are read.
  const smallBody = bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json(errorBody('payload_too_large', 'request body over 64 KiB'), 413) });
  // LINE batches several residents' events in one webhook POST and documents
  // no size; a 413 would drop them all (LINE redelivers only if the channel
  // enabled it). 1 MiB holds hundreds of events and still bounds what an
  // unsigned POST can make us read before the signature check.
  const lineBody = bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json(errorBody('payload_too_large', 'request body over 1 MiB'), 413) });
  app.use('*', (c, next) => (c.req.path === '/api/line/webhook' ? lineBody(c, next) : smallBody(c, next)));

  app.use('*', authenticate(deps.authenticators ?? []));
  for (const mw of deps.middleware ?? []) app.use('*', mw);

  app.get('/healthz', async (c) => {
    const checks = await deps.health();
    const ok = Object.values(checks).every(Boolean);
    return c.json({ status: ok ? 'ok' : 'degraded', checks }, ok ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  app.get('/api/config', (c) =>
    c.json({
      map: { tile_url: deps.map.tileUrl, attribution: deps.map.attribution, center: deps.map.center, zoom: deps.map.zoom },
      time_zone: deps.timeZone,
      links: deps.publicLinks ?? [],
    }),
  );

  // Cached body with ETag/304 and pre-compressed variants: 10,000 sensors answer in well under 50 ms (docs/map.md).
  const snapshot = deps.snapshot ?? createSensorsSnapshot({ registry: deps.registry, latest: deps.latest, timeZone: deps.timeZone, now, ...(deps.trendOf && { trendOf: deps.trendOf }) });
  app.get('/api/sensors', (c) =>
    sendSnapshot(c, snapshot.get(), { 'Content-Type': 'application/json; charset=UTF-8', 'Cache-Control': CACHE_POLICY.sensors }),
  );

  app.get('/api/sensors/:id', (c) => {
    const id = c.req.param('id');
    const sensor = deps.registry.get(id) ?? (deps.registry.refresh() ? deps.registry.get(id) : undefined);
    // A sensor being commissioned exists only for signed-in staff (issue 12).
    if (!sensor || (!isPublicSensor(sensor) && !c.get('principal'))) throw createError('not_found', `unknown sensor ${id}`);
    return c.json(toFeature(sensor, deps.latest.get(id), now(), deps.timeZone, deps.closureOf?.(id), deps.trendOf?.(sensor)));
  });

  app.get('/api/sensors/:id/readings', async (c) => {
    const id = c.req.param('id');
    const known = SensorId.safeParse(id).success ? deps.registry.get(id) : undefined;
    if (!known || (!isPublicSensor(known) && !c.get('principal'))) throw createError('not_found', `unknown sensor ${id}`);
    const query = validate(ReadingsQuery, c.req.query(), 'query');
    const to = query.to ?? now();
    const from = query.from ?? to - 24 * 3600_000;
    if (from > to) throw createError('invalid_input', 'from: must not be after to', { param: 'from' });
    let bucketMs = query.bucket ? query.bucket * 1000 : undefined;
    let points = await deps.store.range({ sensorId: id, from, to, bucketMs, limit: MAX_RAW_POINTS + 1 });
    if (!bucketMs && points.length > MAX_RAW_POINTS) {
      bucketMs = Math.ceil((to - from) / TARGET_BUCKETS / 1000) * 1000;
      points = await deps.store.range({ sensorId: id, from, to, bucketMs });
    }
    return c.json({
      sensor_id: id,
      from: formatIso(from, deps.timeZone),
      to: formatIso(to, deps.timeZone),
      ...(bucketMs && { bucket_s: bucketMs / 1000, aggregate: 'max' }),
      readings: points.map((p) => ({ ts: formatIso(p.observedAt, deps.timeZone), level_cm: p.levelCm })),
    });
  });

  // The live stream (issue 15): written straight to node's ServerResponse by one
  // fan-out for all viewers (services/api/sse-fanout.ts), not a web stream per client.
  const sse = createSseFanout({ hub: deps.hub, metrics: deps.metrics });
  app.get('/api/events', (c) => {
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    if (!outgoing) return c.json(errorBody('not_implemented', 'the live stream needs @hono/node-server'), 501);
    const lastEventId = c.req.header('Last-Event-ID') ?? c.req.query('lastEventId');
    const start = sse.attach(outgoing, lastEventId);
    // Tell @hono/node-server the answer is written here, but let the app-wide middleware
    // (security headers) add its headers to this marker first; the head goes out once
    // the whole chain has run, which is before the next turn of the event loop.
    c.header(ALREADY_SENT, 'true');
    c.header('Content-Type', 'text/event-stream');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    setImmediate(() => {
      const headers: Record<string, string> = {};
      c.res.headers.forEach((value, name) => {
        if (name !== ALREADY_SENT) headers[name] = value;
      });
      start(headers);
    });
    const marker = c.body(null, 200);
    // @hono/node-server answers a Response it still holds in its light form (null body,
    // nothing read yet) itself, marker or not (responseViaCache): reading .body makes it
    // a real Response, which it leaves alone when it carries the marker.
    void marker.body;
    return marker;
  });

  for (const mount of deps.routes ?? []) mount(app);

  const webDir = deps.webDir ?? DEFAULT_WEB_DIR;
  app.use('/vendor/leaflet/*', compress(), serveStatic({ root: LEAFLET_DIR, rewriteRequestPath: (p) => p.replace(/^\/vendor\/leaflet/, '') }));
  const leafletVersioned = (p: string) => p.replace(`/vendor/leaflet-${LEAFLET_VERSION}`, '');
  app.use(
    `/vendor/leaflet-${LEAFLET_VERSION}/*`,
    cacheStatic({ root: LEAFLET_DIR, immutable: true, rewriteRequestPath: leafletVersioned }),
    compress(),
    serveStatic({ root: LEAFLET_DIR, rewriteRequestPath: leafletVersioned }),
  );
  // web/ also holds the type-checker's settings for the pages (tsconfig*.json, `npm test`): not part of the site.
  app.use('/*', async (c, next) => {
    if (/^\/tsconfig[^/]*\.json$/.test(c.req.path)) return c.notFound();
    await next();
  });
  app.use('/*', cacheStatic({ root: webDir }), compress(), serveStatic({ root: webDir }));
  return app;
}
