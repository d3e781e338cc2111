import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compress } from 'hono/compress';
import { streamSSE } from 'hono/streaming';
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
import type { EventHub, HubEvent } from './event-hub.ts';
import { toFeature } from './geojson.ts';
import { createSensorsSnapshot, sendSnapshot, type SensorsSnapshot } from './sensors-snapshot.ts';
import { CACHE_POLICY } from './cache-policy.ts';
import { cacheStatic } from './static-cache.ts';
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
/** An SSE client further behind than this many events is dropped; it reconnects with Last-Event-ID. */
const SSE_MAX_QUEUE = 5_000;
/** Comment line every 15 s keeps proxies and mobile carriers from closing an idle stream. */
const SSE_HEARTBEAT_MS = 15_000;

const ReadingsQuery = z
  .object({
    from: TimeParamSchema.optional(),
    to: TimeParamSchema.optional(),
    bucket: z.coerce.number().int().min(1).max(86_400 * 31).optional(),
  })
  .strict();

/**
 * Every SSE client sends the same bytes for an event: build them once per
 * event, not once per client (100 clients × 1,000 events/s in the benchmark).
 */
const frames = new WeakMap<HubEvent, string>();

/**
 * Shortest gap between two writes to one SSE client (ms). Each write goes
 * through web streams into the socket; at 1,000 readings/s and 100 clients,
 * one write per group commit per client saturated a core (bench: pipeline).
 * Coalescing to at most one write per 10 ms per client adds ≤ 10 ms to the
 * 50 ms p99 budget and caps writes at 100/s per client.
 */
const SSE_COALESCE_MS = 10;

function frame(e: HubEvent): string {
  let f = frames.get(e);
  if (f === undefined) frames.set(e, (f = `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`));
  return f;
}

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

  app.get('/api/events', (c) => {
    const lastEventId = c.req.header('Last-Event-ID') ?? c.req.query('lastEventId');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    return streamSSE(c, async (stream) => {
      let queue: string[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      const sub = deps.hub.subscribe((e) => {
        if (queue.length >= SSE_MAX_QUEUE) closed = true;
        else queue.push(frame(e));
        wake?.();
      }, lastEventId);
      // Where this client starts, taken in the same tick as subscribing.
      const position = deps.hub.lastId();
      deps.metrics.sseClients.inc();
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        await stream.write('retry: 3000\n\n');
        if (sub.resync) await stream.write(`event: resync\ndata: {}\n\n`);
        if (sub.missed.length) queue = sub.missed.map(frame).concat(queue);
        // A client with nothing to replay learns its position at once (an id-only
        // block sets EventSource's lastEventId, HTML §9.2.6), so if it drops before
        // the first event it still resumes with Last-Event-ID instead of a resync.
        else await stream.write(`id: ${position}\n\n`);
        let lastWrite = 0;
        while (!closed) {
          if (queue.length) {
            const wait = lastWrite + SSE_COALESCE_MS - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            if (closed) break;
            const chunk = queue.join('');
            queue = [];
            lastWrite = performance.now();
            await stream.write(chunk);
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, SSE_HEARTBEAT_MS);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            };
          });
          if (!queue.length && !closed) await stream.write(': keep-alive\n\n');
        }
      } finally {
        sub.unsubscribe();
        deps.metrics.sseClients.dec();
      }
    });
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
  app.use('/*', cacheStatic({ root: webDir }), compress(), serveStatic({ root: webDir }));
  return app;
}
