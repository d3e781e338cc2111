import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Context } from 'hono';
import type { Closure } from '../core/closure.ts';
import type { Reading } from '../core/reading.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { isPublicSensor, type Sensor } from '../core/sensor.ts';
import { computeStatus, offlineAt, type Status } from '../core/status.ts';
import type { Trend } from '../core/trend.ts';
import { toFeature } from './geojson.ts';

/** One serialized FeatureCollection of every sensor, with its validators and lazily compressed variants. */
export interface Snapshot {
  body: Buffer;
  /** Strong ETag over the identity body (quoted). */
  etag: string;
  /** When this content (this ETag) first appeared, epoch ms. */
  lastModified: number;
  encoded(encoding: 'br' | 'gzip'): Buffer;
}

export interface SensorsSnapshot {
  /** The current snapshot; rebuilt only when a sensor, a latest reading or an offline boundary changed. */
  get(): Snapshot;
}

/** Bodies above this size are brotli-compressed at quality 1 instead of 5: 10,000 sensors (~5 MB) take ~30 ms instead of ~200 ms for ~25 % more bytes (measured; docs/map.md). */
const FAST_BROTLI_ABOVE = 1024 * 1024;

const HEAD = Buffer.from('{"type":"FeatureCollection","features":[');
const COMMA = Buffer.from(',');
const TAIL = Buffer.from(']}');

interface Entry {
  sensor: Sensor;
  reading: Reading | undefined;
  status: Status;
  closure: Closure | undefined;
  json: Buffer;
}

/**
 * Caches the `/api/sensors` body. Registry and ingest replace the objects they
 * change (never mutate them), so comparing object identity per sensor finds
 * every registry edit and every new latest reading without either module
 * having to announce it; checking costs well under 1 ms for 10,000 sensors.
 * Time is the one other input (`offline` after 3 × interval), so a snapshot
 * also expires at the earliest future offline boundary among its sensors.
 * A rebuild re-serializes only the sensors that changed: formatting times and
 * JSON for 10,000 features costs hundreds of ms, copying cached bytes a few.
 */
export function createSensorsSnapshot(deps: {
  registry: SensorRegistry;
  latest: ReadonlyMap<string, Reading>;
  timeZone: string;
  now: () => number;
  /** Road closures set by staff (issue 13): the one in force at a sensor, and a counter that moves on every change. */
  closures?: { openFor: (sensorId: string) => Closure | undefined; version: () => number };
  /** Issue 12: a sensor's trend from its recent readings. It changes only with a new reading, so it is computed when the latest reading changes. */
  trendOf?: (sensor: Sensor) => Trend | undefined;
}): SensorsSnapshot {
  let entries = new Map<string, Entry>();
  let sensors: Sensor[] = [];
  let validUntil = -Infinity;
  let current: Snapshot | undefined;
  let closuresVersion = deps.closures?.version();

  function unchanged(list: Sensor[], t: number): boolean {
    if (!current || t >= validUntil || list.length !== sensors.length || deps.closures?.version() !== closuresVersion) return false;
    for (let i = 0; i < list.length; i++) {
      const s = list[i] as Sensor;
      if (s !== sensors[i] || deps.latest.get(s.id) !== entries.get(s.id)?.reading) return false;
    }
    return true;
  }

  function build(list: Sensor[], t: number): Snapshot {
    let next = Infinity;
    const nextEntries = new Map<string, Entry>();
    const parts: Buffer[] = [HEAD];
    for (const s of list) {
      const r = deps.latest.get(s.id);
      if (r) {
        const boundary = offlineAt(r.observedAt, s.intervalS);
        if (boundary > t && boundary < next) next = boundary;
      }
      const status = computeStatus(s, r, t);
      const closure = deps.closures?.openFor(s.id);
      let e = entries.get(s.id);
      if (!e || e.sensor !== s || e.reading !== r || e.status !== status || e.closure !== closure) {
        e = { sensor: s, reading: r, status, closure, json: Buffer.from(JSON.stringify(toFeature(s, r, t, deps.timeZone, closure, deps.trendOf?.(s)))) };
      }
      nextEntries.set(s.id, e);
      if (parts.length > 1) parts.push(COMMA);
      parts.push(e.json);
    }
    parts.push(TAIL);
    const body = Buffer.concat(parts);
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    entries = nextEntries;
    sensors = list;
    closuresVersion = deps.closures?.version();
    validUntil = next;
    if (current?.etag === etag) return current;
    const variants = new Map<string, Buffer>();
    return {
      body,
      etag,
      lastModified: t,
      encoded(encoding) {
        let v = variants.get(encoding);
        if (!v) {
          const quality = body.length > FAST_BROTLI_ABOVE ? 1 : 5;
          v = encoding === 'br' ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }) : gzipSync(body, { level: body.length > FAST_BROTLI_ABOVE ? 1 : 6 });
          variants.set(encoding, v);
        }
        return v;
      },
    };
  }

  return {
    get() {
      const t = deps.now();
      // Sensors still being commissioned are not public (issue 12).
      const list = deps.registry.list().filter(isPublicSensor);
      if (!unchanged(list, t)) current = build(list, t);
      return current as Snapshot;
    },
  };
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Answer with a snapshot: 304 when the client's ETag (RFC 9110 §13.1.2) still
 * matches, else the body, compressed when the client accepts it (a 1,000-sensor
 * body is ~0.4 MB raw, ~40 KB brotli: the difference between 2 s and 0.3 s on slow 4G).
 */
export function sendSnapshot(c: Context, snap: Snapshot, headers: Record<string, string>): Response {
  const common: Record<string, string> = {
    ETag: snap.etag,
    'Last-Modified': new Date(snap.lastModified).toUTCString(),
    Vary: 'Accept-Encoding',
    ...headers,
  };
  if (matches(c.req.header('If-None-Match'), snap.etag)) return new Response(null, { status: 304, headers: common });
  const accept = c.req.header('Accept-Encoding') ?? '';
  const encoding = /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : undefined;
  const body = encoding ? snap.encoded(encoding) : snap.body;
  if (encoding) common['Content-Encoding'] = encoding;
  common['Content-Length'] = String(body.length);
  // A Buffer is a Uint8Array, which Node's Response takes as is (no copy); lib.dom's BodyInit typing lags behind.
  return new Response((c.req.method === 'HEAD' ? null : body) as unknown as BodyInit, { status: 200, headers: common });
}
