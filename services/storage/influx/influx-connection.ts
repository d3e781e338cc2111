import { HttpError, InfluxDB, RequestTimedOutError, setLogger } from '@influxdata/influxdb-client';
import type { InfluxQueryResponse } from './line-protocol.ts';

export interface InfluxConnectionOptions {
  /** Base URL, e.g. http://influx:8086 (any path prefix is kept, for reverse proxies). */
  url: string;
  /** 1.x database, or the 2.x/3.x bucket reached through the v1 compatibility API. */
  database: string;
  /** Sent as `Authorization: Token …` (InfluxDB 2.x/3.x, 1.8+ with a `user:password` token). */
  token?: string;
  /** 1.x user (or, on 2.x, any user name with the token as password): HTTP Basic auth. */
  username?: string;
  password?: string;
  /** Per write request; a write that takes longer is spooled instead. */
  writeTimeoutMs: number;
  /** Per query request. */
  queryTimeoutMs?: number;
  /** Bodies larger than this many bytes are gzipped; 0 never gzips. */
  gzipThreshold?: number;
}

/** Why a write failed, as the `kind` label of kansui_influx_write_errors_total. */
export const WRITE_ERROR_KINDS = ['timeout', 'network', 'server', 'throttled', 'auth', 'not_found', 'bad_line', 'other'] as const;
export type WriteErrorKind = (typeof WRITE_ERROR_KINDS)[number];

/**
 * Sort a failed request into a kind. `bad_line` (400, 413, 422) means the
 * body itself was refused: resending it unchanged cannot succeed, so the
 * caller splits it. Every other kind is worth retrying later.
 */
export function classifyError(err: unknown): WriteErrorKind {
  if (err instanceof HttpError) {
    const s = err.statusCode;
    if (s === 400 || s === 413 || s === 422) return 'bad_line';
    if (s === 401 || s === 403) return 'auth';
    if (s === 404) return 'not_found';
    if (s === 429) return 'throttled';
    if (s >= 500) return 'server';
    return 'other';
  }
  if (err instanceof RequestTimedOutError) return 'timeout';
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return 'network';
  return 'other';
}

export interface InfluxConnection {
  /** POST lines to /write in one request; rejects with the client's HttpError / network error. */
  writeLines(lines: readonly string[]): Promise<void>;
  /** InfluxQL over /query (epoch=ms); throws on an HTTP or statement error. */
  query(q: string): Promise<InfluxQueryResponse>;
  /** GET /ping; resolves the server version header (1.x, 2.x and 3.x all answer /ping). */
  ping(timeoutMs?: number): Promise<string>;
}

let clientLogSilenced = false;

/**
 * The InfluxDB link, built on @influxdata/influxdb-client as decided in
 * issue 3: its WriteApi does the HTTP write (headers, gzip, auth) with its
 * documented `path` pointed at the v1 endpoint `/write?db=…&precision=ms`,
 * which InfluxDB 1.x, 2.x (v1 compatibility, DBRP mapping) and 3.x all
 * serve; reads are InfluxQL over `/query`.
 *
 * The client's own retry buffer is NOT used (maxRetries 0): it lives in
 * memory and drops the oldest lines past maxBufferLines (32,000 by
 * default), which a 60 s outage at 1,000 readings/s overflows. Retries are
 * the store's job, from its on-disk spool. Each send gets its own WriteApi
 * sized to the batch, so its outcome belongs to exactly one caller.
 */
export function createInfluxConnection(options: InfluxConnectionOptions): InfluxConnection {
  if (!clientLogSilenced) {
    // The client logs failures to the console; the store reports them as events instead.
    setLogger({ error() {}, warn() {} });
    clientLogSilenced = true;
  }
  const headers: Record<string, string> = {};
  if (options.username !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
  }
  const common = { url: options.url, ...(options.token !== undefined && { token: options.token }), headers };
  const writer = new InfluxDB({ ...common, timeout: options.writeTimeoutMs });
  const reader = new InfluxDB({ ...common, timeout: options.queryTimeoutMs ?? 30_000 });
  const db = encodeURIComponent(options.database);
  const writePath = `/write?db=${db}&precision=ms`;

  return {
    async writeLines(lines) {
      if (lines.length === 0) return;
      const api = writer.getWriteApi('-', options.database, 'ms', {
        batchSize: lines.length + 1,
        flushInterval: 0,
        maxRetries: 0,
        // The client gzips when threshold < body length, so "never" must be an infinite threshold, not 0.
        gzipThreshold: options.gzipThreshold ? options.gzipThreshold : Number.POSITIVE_INFINITY,
        // Returning a promise makes it the outcome of the flush: no retry buffer, no console log.
        writeFailed: (err) => Promise.reject(err),
      });
      api.path = writePath;
      api.writeRecords(lines as string[]);
      await api.close();
    },
    async query(q) {
      const body = (await reader.transport.request(`/query?db=${db}&epoch=ms&q=${encodeURIComponent(q)}`, null, {
        method: 'GET',
        headers: { accept: 'application/json' },
      })) as InfluxQueryResponse | undefined;
      if (!body) throw new Error('InfluxDB returned no query result');
      const failed = body.error ?? body.results?.find((r) => r.error)?.error;
      if (failed) throw new Error(`InfluxQL: ${failed}`);
      return body;
    },
    async ping(timeoutMs = 2_000) {
      let version = '';
      const pinger = new InfluxDB({ ...common, timeout: timeoutMs });
      await pinger.transport.request('/ping', null, { method: 'GET' }, (h) => {
        version = String(h['x-influxdb-version'] ?? '');
      });
      return version;
    },
  };
}
