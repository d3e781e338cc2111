import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { z } from 'zod';
import { createError } from '../core/errors.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import { SensorId } from '../core/sensor.ts';
import { formatIso } from '../core/time.ts';
import { TimeParamSchema, validate } from '../core/validate.ts';
import type { AuthEnv } from '../auth/middleware.ts';
import { CACHE_POLICY } from './cache-policy.ts';
import { sendSnapshot, type SensorsSnapshot } from './sensors-snapshot.ts';

/** Open data is for anyone to reuse: any origin may read it (Fetch standard CORS, `*` without credentials). */
const OPEN_CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'ETag, Last-Modified' };
/** Readings arrive every few minutes at most: a minute of shared caching costs residents nothing and spares the server. */
const OPEN_CACHE = 'public, max-age=60';
/** Longest range one CSV request may ask for; a month of 10-minute readings is ~4,500 rows per sensor. */
const MAX_RANGE_MS = 31 * 24 * 3600_000;
const MAX_SENSORS = 50;
/** More rows than this: narrow the range rather than stream an unbounded file. */
const MAX_ROWS = 200_000;

const CsvQuery = z
  .object({
    sensor: z
      .string({ error: 'required: one sensor id, or several separated by commas' })
      .transform((v) => [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))])
      .pipe(z.array(SensorId).min(1, 'required: at least one sensor id').max(MAX_SENSORS, `at most ${MAX_SENSORS} sensors per request`)),
    from: TimeParamSchema.optional(),
    to: TimeParamSchema.optional(),
  })
  .strict();

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Open data for reuse (the city's open-data goal; docs/open-data.md):
 * `GET /api/sensors.geojson` (the same FeatureCollection as /api/sensors, as
 * `application/geo+json`, RFC 7946 §12) and `GET /api/readings.csv`.
 * Both public, CORS-open, with ETag / Last-Modified / Cache-Control.
 */
export function createOpenDataRoutes(deps: {
  registry: SensorRegistry;
  store: ReadingStore;
  snapshot: SensorsSnapshot;
  timeZone: string;
  now: () => number;
}): (app: Hono<AuthEnv>) => void {
  return (app) => {
    app.get('/api/sensors.geojson', (c) =>
      sendSnapshot(c, deps.snapshot.get(), {
        'Content-Type': 'application/geo+json; charset=utf-8',
        'Cache-Control': CACHE_POLICY.openGeoJson,
        ...OPEN_CORS,
      }),
    );

    app.get('/api/readings.csv', async (c) => {
      const query = validate(CsvQuery, c.req.query(), 'query');
      const { sensor: ids } = query;
      const to = query.to ?? deps.now();
      const from = query.from ?? to - 24 * 3600_000;
      if (from > to) throw createError('invalid_input', 'from: must not be after to', { param: 'from' });
      if (to - from > MAX_RANGE_MS) throw createError('invalid_input', 'from: range longer than 31 days; split it into several requests', { param: 'from' });
      for (const id of ids) {
        if (!deps.registry.get(id) && !(deps.registry.refresh() && deps.registry.get(id))) {
          throw createError('not_found', `unknown sensor ${id}`, { param: 'sensor' });
        }
      }
      const lines = ['sensor_id,ts,level_cm'];
      let newest = 0;
      for (const id of ids) {
        const points = await deps.store.range({ sensorId: id, from, to, limit: MAX_ROWS + 1 });
        if (lines.length - 1 + points.length > MAX_ROWS) {
          throw createError('invalid_input', `more than ${MAX_ROWS} rows; narrow from/to`, { param: 'from' });
        }
        const field = csvField(id);
        for (const p of points) {
          lines.push(`${field},${formatIso(p.observedAt, deps.timeZone)},${p.levelCm}`);
          if (p.observedAt > newest) newest = p.observedAt;
        }
      }
      const body = lines.join('\r\n') + '\r\n'; // RFC 4180 §2: CRLF line breaks
      const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
      const headers: Record<string, string> = {
        ETag: etag,
        'Cache-Control': OPEN_CACHE,
        ...OPEN_CORS,
        ...(newest > 0 && { 'Last-Modified': new Date(newest).toUTCString() }),
      };
      const inm = c.req.header('If-None-Match');
      if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return new Response(null, { status: 304, headers });
      return new Response(body, {
        status: 200,
        headers: {
          ...headers,
          // RFC 4180 §3 media type with the header parameter; UTF-8 stated so spreadsheet tools do not guess.
          'Content-Type': 'text/csv; charset=utf-8; header=present',
          'Content-Disposition': `inline; filename="kansui-readings.csv"`,
        },
      });
    });
  };
}
