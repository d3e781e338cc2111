import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Metrics } from '../metrics.ts';
import type { EventHub, HubEvent } from './event-hub.ts';

/**
 * The SSE transport of `/api/events` (issue 15): every viewer is a node
 * ServerResponse written directly, with the same Buffer for an event shared
 * by every client, one flush loop for all of them and one heartbeat timer.
 *
 * Why not hono's streamSSE: one process with 10,000 viewers delivered a
 * reading to all of them in p99 1,716 ms against 356 ms for a bare node:http
 * SSE loop, at ~34 KB RSS per viewer against 8.5 KB (issue 15): each client
 * had a ReadableStream, a TextEncoder, a pending promise chain and its own
 * timers, and every event was encoded and enqueued once per client.
 *
 * Each client still subscribes to the hub on its own (the hub decides what it
 * missed, whether it must resync, and, for a client ahead of this process,
 * which live events it already has: services/api/event-hub.ts), but its
 * listener only remembers the event; the flush then writes one shared Buffer
 * to every client that received the same events as everyone (all of them,
 * almost always) and builds a Buffer of its own only for the others.
 */
export interface SseFanout {
  /**
   * Serve one client on `res` (headers not yet sent), from `lastEventId`.
   * Subscribes now; the preamble and head are written by `start`, once the
   * app's middleware has added its headers (see createApi).
   */
  attach(res: ServerResponse, lastEventId: string | undefined): (headers: OutgoingHttpHeaders) => void;
  /** Connected clients. */
  clients(): number;
}

export interface SseFanoutOptions {
  hub: EventHub;
  metrics: Pick<Metrics, 'sseClients'>;
  /** Comment line this often keeps proxies and mobile carriers from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /**
   * Shortest gap between two flushes (ms). At 1,000 readings/s one write per
   * group commit per client saturated a core (bench: pipeline); at most one
   * write per 10 ms adds ≤ 10 ms to the 50 ms p99 budget.
   */
  coalesceMs?: number;
  /** A client with more than this many events waiting is dropped; it reconnects with Last-Event-ID. */
  maxQueue?: number;
  /**
   * A client whose socket holds more unsent bytes than this is dropped (a slow
   * phone must not make the process hold every event for it); it reconnects
   * with Last-Event-ID and gets what it missed from the hub's ring. 1 MiB is
   * some 3,000 reading events (~330 bytes each).
   */
  maxBufferedBytes?: number;
}

interface Client {
  res: ServerResponse;
  /** Events received from the hub since the last flush (the shared empty array when none). */
  pending: HubEvent[];
  /** Head and preamble written: the flush may write to it. */
  started: boolean;
  unsubscribe: () => void;
}

const NONE: HubEvent[] = [];
const HEARTBEAT = Buffer.from(': keep-alive\n\n');
/** Each viewer's `retry:`: RETRY_MIN_MS plus up to RETRY_SPREAD_MS at random (see where it is written). */
export const RETRY_MIN_MS = 2000;
export const RETRY_SPREAD_MS = 3000;

/** Every SSE client sends the same bytes for an event: build them once per event, not once per client. */
const frames = new WeakMap<HubEvent, string>();
function frame(e: HubEvent): string {
  let f = frames.get(e);
  if (f === undefined) frames.set(e, (f = `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`));
  return f;
}

const encode = (events: readonly HubEvent[]) => Buffer.from(events.map(frame).join(''));

export function createSseFanout(options: SseFanoutOptions): SseFanout {
  const { hub, metrics } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const coalesceMs = options.coalesceMs ?? 10;
  const maxQueue = options.maxQueue ?? 5_000;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const clients = new Set<Client>();
  /** Every event since the last flush, in order: what a client that received all of them gets. */
  let batch: HubEvent[] = [];
  let batchSub: (() => void) | undefined;
  let scheduled = false;
  let lastFlush = 0;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const drop = (c: Client) => {
    if (!clients.delete(c)) return;
    c.unsubscribe();
    metrics.sseClients.dec();
    if (!c.res.destroyed) c.res.destroy();
    if (clients.size === 0) {
      // Nobody listens: stop the timer and the batch listener (a test creates many apps on one hub).
      clearInterval(heartbeat);
      heartbeat = undefined;
      batchSub?.();
      batchSub = undefined;
      batch = [];
    }
  };

  const write = (c: Client, data: Buffer) => {
    c.res.write(data);
    if (c.res.writableLength > maxBuffered) drop(c);
  };

  const flush = () => {
    scheduled = false;
    lastFlush = performance.now();
    if (!batch.length) return;
    const all = batch;
    batch = [];
    let shared: Buffer | undefined;
    for (const c of clients) {
      if (!c.started || c.pending === NONE) continue;
      const mine = c.pending;
      c.pending = NONE;
      // A client's events are a subsequence of the batch (the hub keeps order): same length, same events.
      if (mine.length === all.length) write(c, (shared ??= encode(all)));
      else write(c, encode(mine));
    }
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    const wait = lastFlush + coalesceMs - performance.now();
    // setImmediate, not now: the events of one group commit arrive in one tick and go out in one write.
    if (wait > 0) setTimeout(flush, wait);
    else setImmediate(flush);
  };

  const ensureRunning = () => {
    if (!batchSub) {
      batchSub = hub.subscribe((e) => {
        batch.push(e);
        schedule();
      }).unsubscribe;
    }
    if (!heartbeat) {
      heartbeat = setInterval(() => {
        for (const c of clients) if (c.started) write(c, HEARTBEAT);
      }, heartbeatMs);
      heartbeat.unref();
    }
  };

  return {
    attach(res, lastEventId) {
      ensureRunning();
      const c: Client = { res, pending: NONE, started: false, unsubscribe: () => {} };
      const sub = hub.subscribe((e) => {
        if (c.pending === NONE) c.pending = [e];
        else if (c.pending.length >= maxQueue) drop(c);
        else c.pending.push(e);
      }, lastEventId);
      c.unsubscribe = sub.unsubscribe;
      // Where this client starts, taken in the same tick as subscribing.
      const position = hub.lastId();
      clients.add(c);
      metrics.sseClients.inc();
      const onClose = () => drop(c);
      res.once('close', onClose);
      return (headers) => {
        if (!clients.has(c)) return;
        if (res.headersSent || res.destroyed) return drop(c); // something else answered
        // @hono/node-server's own 'close' handler keeps its Request (and the Headers the middleware
        // read) alive as long as the stream lasts, only to abort that request's signal, which nothing
        // uses once the route has answered; node:http itself listens to no 'close' on a response.
        for (const l of res.listeners('close')) if (l !== onClose) res.off('close', l as () => void);
        res.writeHead(200, headers);
        if (res.req.method === 'HEAD') {
          res.end();
          return drop(c);
        }
        // The reconnection time (HTML §9.2.6 `retry`), 2–5 s at random per viewer: when a web process dies, its
        // thousands of viewers come back spread over 3 s instead of in the same instant (browsers wait exactly it).
        let preamble = `retry: ${RETRY_MIN_MS + Math.floor(Math.random() * RETRY_SPREAD_MS)}\n\n`;
        if (sub.resync) preamble += 'event: resync\ndata: {}\n\n';
        // A client with nothing to replay learns its position at once (an id-only
        // block sets EventSource's lastEventId, HTML §9.2.6), so if it drops before
        // the first event it still resumes with Last-Event-ID instead of a resync.
        if (sub.missed.length) preamble += sub.missed.map(frame).join('');
        else preamble += `id: ${position}\n\n`;
        if (c.pending !== NONE) {
          preamble += c.pending.map(frame).join('');
          c.pending = NONE;
        }
        c.started = true;
        write(c, Buffer.from(preamble));
      };
    },
    clients: () => clients.size,
  };
}
