import { DomainError } from '../core/errors.ts';
import type { Reading } from '../core/reading.ts';
import type { RangePoint, RangeQuery, ReadingStore, StoreStats, WriteResult } from '../core/ports.ts';
import { classifyError, createInfluxConnection, WRITE_ERROR_KINDS, type InfluxConnection, type WriteErrorKind } from './influx/influx-connection.ts';
import { formatLine, MEASUREMENT, quoteString, rowToReading, seriesRows } from './influx/line-protocol.ts';
import { openSpool, type Spool } from './influx/spool.ts';

export interface InfluxReadingStoreOptions {
  /** DATA_DIR: the spool file influx-spool.db lives here. */
  dataDir: string;
  url: string;
  database: string;
  token?: string;
  username?: string;
  password?: string;
  /**
   * A live write that InfluxDB has not answered within this time is spooled
   * instead (a hung server must not hold PUBACKs for long). If the request
   * lands later anyway, the replay is a harmless duplicate. Default 2,000 ms.
   */
  writeTimeoutMs?: number;
  /** Most lines in one write request. Default 5,000 (issue 3: batches of up to 5,000 lines). */
  batchLines?: number;
  /**
   * Drainer back-off after a failed attempt: doubles from min to max. Defaults
   * 100 ms and 1,000 ms: a probe of a dead server a second is cheap (a refused
   * connection, or one request that times out), and the spool starts draining
   * within a second of InfluxDB's return.
   */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Gzip write bodies over this many bytes (0 = never, the default: loopback and LAN gain nothing). */
  gzipThreshold?: number;
  now?: () => number;
  /** Everything worth logging; the host decides how (services/root/reading-store.ts). */
  onEvent?: (event: InfluxStoreEvent) => void;
}

export type InfluxStoreEvent =
  | { type: 'connected'; url: string; version: string; spooled: number }
  | { type: 'unreachable'; url: string; kind: WriteErrorKind; error: string; spooled: number }
  | { type: 'database-missing'; database: string; error: string }
  | { type: 'quarantined'; line: string; error: string }
  | { type: 'drained'; spooled: number }
  | { type: 'query-failed'; what: string; error: string };

/** InfluxDB's time range (int64 ns since the epoch), in ms: bounds outside it make InfluxQL fail. */
const MIN_TIME_MS = -9_223_372_036_854;
const MAX_TIME_MS = 9_223_372_036_854;

function clampTime(ms: number): number {
  return Math.trunc(Math.min(MAX_TIME_MS, Math.max(MIN_TIME_MS, ms)));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** Drop repeats of (sensor, observedAt) inside one batch; InfluxDB would keep only the last anyway. */
function dedupe(readings: readonly Reading[]): Reading[] {
  const seen = new Set<string>();
  const out: Reading[] = [];
  for (const r of readings) {
    const key = `${r.sensorId}\u0000${r.observedAt}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/**
 * The InfluxDB ReadingStore (issue 3). Loses nothing when InfluxDB goes away:
 *
 * - `write` resolves only once the batch is in InfluxDB (HTTP 204) or
 *   durably in the local spool (SQLite in DATA_DIR, one fsynced transaction
 *   per batch). While InfluxDB is known to be down, writes go straight to
 *   the spool, so the ingest's latency is one local commit.
 * - A background drainer replays the spool oldest first, one batch in flight
 *   at a time (backpressure), and marks InfluxDB "up" again when a replay
 *   succeeds; live writes then go to InfluxDB directly while it drains.
 * - A batch refused with 400/413/422 is bisected: the halves are resent until
 *   the single bad lines are found; those go to the spool's quarantine table,
 *   the rest is written.
 * - A duplicate delivery is the same point (sensor_id tag + timestamp), so
 *   InfluxDB stores it once; `duplicates` counts only repeats inside a batch
 *   (InfluxDB does not say whether a point was new).
 *
 * Reads are InfluxQL over /query, merged with whatever is still spooled.
 */
export async function createInfluxReadingStore(options: InfluxReadingStoreOptions): Promise<ReadingStore> {
  const now = options.now ?? Date.now;
  const onEvent = options.onEvent ?? (() => {});
  const batchLines = options.batchLines ?? 5000;
  const retryMinMs = options.retryMinMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 1000;
  const conn: InfluxConnection = createInfluxConnection({
    url: options.url,
    database: options.database,
    writeTimeoutMs: options.writeTimeoutMs ?? 2000,
    gzipThreshold: options.gzipThreshold ?? 0,
    ...(options.token !== undefined && { token: options.token }),
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  });
  const spool: Spool = openSpool(options.dataDir);
  const writeErrors = Object.fromEntries(WRITE_ERROR_KINDS.map((k) => [k, 0])) as Record<WriteErrorKind, number>;

  let up = true;
  let closed = false;

  function markDown(err: unknown, kind: WriteErrorKind): void {
    if (!up) return;
    up = false;
    onEvent({ type: 'unreachable', url: options.url, kind, error: errorMessage(err), spooled: spool.depth() });
  }
  function markUp(version = ''): void {
    if (up) return;
    up = true;
    onEvent({ type: 'connected', url: options.url, version, spooled: spool.depth() });
  }

  /**
   * Send lines; on a refused body split it in halves until each bad line is
   * alone, quarantine those, write the rest. Resolves when every line is in
   * InfluxDB or quarantined; rejects (with nothing quarantined wrongly) on
   * any retryable failure.
   */
  async function sendLines(lines: readonly string[]): Promise<void> {
    try {
      await conn.writeLines(lines);
    } catch (err) {
      const kind = classifyError(err);
      writeErrors[kind]++;
      if (kind !== 'bad_line') throw Object.assign(err as Error, { kind });
      if (lines.length === 1) {
        const line = lines[0] as string;
        if (!closed && spool.quarantine(line, errorMessage(err), now())) onEvent({ type: 'quarantined', line, error: errorMessage(err) });
        return;
      }
      const mid = lines.length >>> 1;
      await sendLines(lines.slice(0, mid));
      await sendLines(lines.slice(mid));
    }
  }

  async function sendReadings(readings: readonly Reading[]): Promise<void> {
    for (let i = 0; i < readings.length; i += batchLines) {
      await sendLines(readings.slice(i, i + batchLines).map(formatLine));
    }
  }

  // --- the drainer ---------------------------------------------------------
  // Two separate wake-ups: new spool rows end the idle wait, but never the
  // back-off after a failure (else every spooled batch would retry a dead server).
  let wakeIdle: (() => void) | undefined;
  let wakePause: (() => void) | undefined;
  function kick(): void {
    const w = wakeIdle;
    wakeIdle = undefined;
    w?.();
  }
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        wakePause = undefined;
        resolve();
      }, ms);
      wakePause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function drain(): Promise<void> {
    let delay = retryMinMs;
    while (!closed) {
      if (spool.depth() === 0) {
        await new Promise<void>((resolve) => (wakeIdle = resolve));
        continue;
      }
      const rows = spool.head(batchLines);
      const last = rows[rows.length - 1];
      if (!last) continue;
      try {
        await sendLines(rows.map((r) => formatLine(r.reading)));
        if (closed) return; // the spool is shut; these rows are replayed next start (duplicates are harmless)
        spool.removeThrough(last.id);
        markUp();
        delay = retryMinMs;
        if (spool.depth() === 0) onEvent({ type: 'drained', spooled: 0 });
      } catch (err) {
        if (closed) return;
        markDown(err, (err as { kind?: WriteErrorKind }).kind ?? classifyError(err));
        await pause(delay);
        delay = Math.min(delay * 2, retryMaxMs);
      }
    }
  }

  // --- start-up: say clearly whether InfluxDB answers, but start either way.
  try {
    const version = await conn.ping();
    onEvent({ type: 'connected', url: options.url, version, spooled: spool.depth() });
    try {
      await conn.query(`SHOW MEASUREMENTS LIMIT 1`);
    } catch (err) {
      if (/database not found/i.test(errorMessage(err))) {
        onEvent({ type: 'database-missing', database: options.database, error: errorMessage(err) });
      }
    }
  } catch (err) {
    up = false;
    onEvent({ type: 'unreachable', url: options.url, kind: classifyError(err), error: errorMessage(err), spooled: spool.depth() });
  }
  const drainer = drain();

  function unavailable(what: string, err: unknown): DomainError {
    onEvent({ type: 'query-failed', what, error: errorMessage(err) });
    return new DomainError('unavailable', `InfluxDB did not answer (${what}); try again shortly`, undefined, { cause: err });
  }

  return {
    kind: 'influx',
    async write(readings): Promise<WriteResult> {
      if (closed) throw new Error('influx store is closed');
      const unique = dedupe(readings);
      const result = { written: unique.length, duplicates: readings.length - unique.length };
      if (unique.length === 0) return result;
      if (up) {
        try {
          await sendReadings(unique);
          return result;
        } catch (err) {
          markDown(err, (err as { kind?: WriteErrorKind }).kind ?? classifyError(err));
        }
      }
      // Durable locally before we return: the caller acknowledges on our word.
      spool.append(unique, now());
      kick();
      return result;
    },

    async range(q: RangeQuery): Promise<RangePoint[]> {
      const limit = q.limit ?? 100_000;
      const from = clampTime(q.from);
      const to = clampTime(q.to);
      const where = `sensor_id = ${quoteString(q.sensorId)} AND time >= ${from}ms AND time <= ${to}ms`;
      const bucketMs = q.bucketMs ? Math.max(1, Math.trunc(q.bucketMs)) : undefined;
      // GROUP BY time() buckets are aligned to the epoch and report their start, like the SQLite adapter.
      const sql = bucketMs
        ? `SELECT MAX(level_cm) AS level_cm FROM ${MEASUREMENT} WHERE ${where} GROUP BY time(${bucketMs}ms) fill(none) LIMIT ${limit}`
        : `SELECT level_cm FROM ${MEASUREMENT} WHERE ${where} ORDER BY time ASC LIMIT ${limit}`;
      let body;
      try {
        body = await conn.query(sql);
      } catch (err) {
        throw unavailable('history', err);
      }
      const merged = new Map<number, number>();
      for (const s of body.results?.[0]?.series ?? []) {
        for (const row of seriesRows(s)) {
          if (typeof row.time === 'number' && typeof row.level_cm === 'number') merged.set(row.time, row.level_cm);
        }
      }
      // Readings still waiting in the spool are part of the history too.
      for (const p of closed ? [] : spool.range(q.sensorId, from, to)) {
        const at = bucketMs ? p.observedAt - (((p.observedAt % bucketMs) + bucketMs) % bucketMs) : p.observedAt;
        const prev = merged.get(at);
        merged.set(at, prev === undefined || !bucketMs ? p.levelCm : Math.max(prev, p.levelCm));
      }
      return [...merged]
        .sort((a, b) => a[0] - b[0])
        .slice(0, limit)
        .map(([observedAt, levelCm]) => ({ observedAt, levelCm }));
    },

    async latest() {
      const out = new Map<string, Reading>();
      try {
        const body = await conn.query(`SELECT * FROM ${MEASUREMENT} GROUP BY sensor_id ORDER BY time DESC LIMIT 1`);
        for (const s of body.results?.[0]?.series ?? []) {
          const sensorId = s.tags?.sensor_id;
          const row = seriesRows(s)[0];
          const r = sensorId && row ? rowToReading(sensorId, row) : undefined;
          if (r) out.set(r.sensorId, r);
        }
      } catch (err) {
        // Start without history rather than not at all: live readings fill the map.
        onEvent({ type: 'query-failed', what: 'latest reading per sensor', error: errorMessage(err) });
      }
      for (const [id, r] of closed ? [] : spool.latest()) {
        const prev = out.get(id);
        if (!prev || r.observedAt > prev.observedAt) out.set(id, r);
      }
      return out;
    },

    async healthy() {
      if (closed) return false;
      try {
        await conn.ping(1000);
        return true;
      } catch {
        return false;
      }
    },

    stats(): StoreStats {
      const oldest = closed ? undefined : spool.oldestSpooledAt();
      return {
        spooled: closed ? 0 : spool.depth(),
        oldestSpooledAgeMs: oldest === undefined ? 0 : Math.max(0, now() - oldest),
        writeErrors: { ...writeErrors },
        quarantined: closed ? 0 : spool.quarantineCount(),
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      kick();
      wakePause?.();
      await drainer;
      spool.close();
    },
  };
}
