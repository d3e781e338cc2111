import { EventEmitter } from 'node:events';
import { parseReading, type Reading, type RejectReason } from '../core/reading.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import type { Sensor } from '../core/sensor.ts';

export type SubmitOutcome = { ok: true; reading: Reading } | { ok: false; reason: RejectReason; detail: string };

export interface IngestEvents {
  /** A reading is durable in the store. Emitted in submission order. */
  reading: [reading: Reading, sensor: Sensor];
  /** A reading was refused; `sensorId` is who sent it when known. */
  rejected: [reason: RejectReason, detail: string, sensorId: string | undefined];
  /** One group commit finished. */
  write: [info: { count: number; durationMs: number; duplicates: number }];
  /** A group commit failed; the readings in it were not acknowledged. */
  'write-error': [err: Error, count: number];
}

export interface IngestOptions {
  store: ReadingStore;
  registry: SensorRegistry;
  now?: () => number;
  /** Most readings in one store write. */
  maxBatch?: number;
  /**
   * Called with each batch once the store has it (an ingest worker: publish it on the bus, issue 15). The
   * batch counts as written (`write`, `reading`, submit resolved, so its PUBACKs leave) only once this
   * resolves; if it rejects, the batch fails as a failed store write does (the sender delivers it again and
   * the store keeps it once). The next batch is written meanwhile.
   */
  announce?: (readings: readonly Reading[]) => Promise<void>;
}

export interface Ingest extends EventEmitter<IngestEvents> {
  /**
   * Validate and store one payload from `sensorId`. Resolves once the reading
   * is durable (`ok: true`) or refused (`ok: false`, counted via `rejected`).
   * Rejects only when the store could not make it durable: the caller must
   * then NOT acknowledge it, so the sender retries.
   */
  submit(sensorId: string, payload: Uint8Array): Promise<SubmitOutcome>;
  /**
   * `submit` for many payloads at once (what one socket read of an MQTT
   * subscriber holds): one promise for all of them instead of one each.
   * Resolves once every valid one is durable (the refused ones are counted
   * via `rejected`); rejects when the store could not make them durable.
   */
  submitMany(items: readonly SubmitItem[]): Promise<void>;
  /** Count a refusal decided outside the parser (topic shape, authorization). */
  reject(reason: RejectReason, detail: string, sensorId?: string): void;
  /** Newest reading per sensor; never moves backwards on out-of-order arrivals. */
  readonly latest: ReadonlyMap<string, Reading>;
  /** Load `latest` from the store. Call once before accepting traffic. */
  start(): Promise<void>;
  /** Resolves when everything submitted so far has been written. */
  drain(): Promise<void>;
}

/** One payload for `submitMany`: who sent it, and the bytes. */
export interface SubmitItem {
  sensorId: string;
  payload: Uint8Array;
}

/** Told when a queued reading is durable or failed: one per `submit`, one shared by a `submitMany`. */
interface Settle {
  ok(reading: Reading): void;
  fail(err: Error): void;
}

interface Pending {
  reading: Reading;
  sensor: Sensor;
  settle: Settle;
}

/** The Settle of a `submitMany`: resolves once its last reading is durable, rejects at the first failure. */
function settleGroup(resolve: () => void, reject: (err: Error) => void): Settle & { remaining: number } {
  return {
    remaining: 0,
    ok() {
      if (--this.remaining === 0) resolve();
    },
    fail: reject,
  };
}

/**
 * The ingest: parse → group commit → events. Group commit: readings that
 * arrive while a write is in flight are written together in the next one, so
 * one durable commit acknowledges many readings and latency stays at one
 * commit when traffic is light (no timer, no fixed delay).
 */
export function createIngest(options: IngestOptions): Ingest {
  const { store, registry, announce } = options;
  const now = options.now ?? Date.now;
  const maxBatch = options.maxBatch ?? 5000;
  const latest = new Map<string, Reading>();
  let queue: Pending[] = [];
  let writing = false;
  let scheduled = false;
  let idle: (() => void)[] = [];

  const ingest = new EventEmitter<IngestEvents>() as Ingest;

  function lookup(sensorId: string): Sensor | undefined {
    // An id we don't know may have just been registered by the CLI in another process.
    return registry.get(sensorId) ?? (registry.refresh() ? registry.get(sensorId) : undefined);
  }

  function schedule(): void {
    if (wake) return wake(); // flush is waiting for announcements: write this meanwhile
    if (scheduled || writing) return;
    scheduled = true;
    setImmediate(flush);
  }

  /** What comes after each store write: the announcements in commit order, then the readings settled. */
  let settling: Promise<void> = Promise.resolve();
  /** Batches written whose announcement has not settled yet. */
  let unsettled = 0;
  /** Set while flush waits for announcements: new readings wake it to be written at once. */
  let wake: (() => void) | undefined;

  function settleBatch(batch: readonly Pending[]): void {
    for (const p of batch) {
      const prev = latest.get(p.reading.sensorId);
      if (!prev || p.reading.observedAt >= prev.observedAt) latest.set(p.reading.sensorId, p.reading);
      ingest.emit('reading', p.reading, p.sensor);
      p.settle.ok(p.reading);
    }
  }

  function failBatch(batch: readonly Pending[], err: Error): void {
    ingest.emit('write-error', err, batch.length);
    for (const p of batch) p.settle.fail(err);
  }

  async function flush(): Promise<void> {
    scheduled = false;
    writing = true;
    for (;;) {
      while (queue.length > 0) {
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
        const readings = batch.map((p) => p.reading);
        const started = performance.now();
        let result: Awaited<ReturnType<ReadingStore['write']>>;
        try {
          result = await store.write(readings);
        } catch (err) {
          failBatch(batch, err as Error);
          continue;
        }
        const written = { count: batch.length, durationMs: performance.now() - started, duplicates: result.duplicates };
        if (!announce) {
          ingest.emit('write', written);
          settleBatch(batch);
          continue;
        }
        // Pipelined: the next batch is written while this one's announcement is on its way; batches settle in order.
        // Its outcome as a value: a rejection must not go unhandled while earlier batches are still settling.
        const announced = announce(readings).then(() => undefined, (err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        unsettled++;
        settling = settling
          .then(() => announced)
          .then((err) => {
            unsettled--;
            if (err) return failBatch(batch, err);
            ingest.emit('write', written);
            settleBatch(batch);
          });
      }
      if (unsettled === 0) break;
      // Until the announcements are in, or new readings come to be written.
      await Promise.race([settling, new Promise<void>((r) => (wake = r))]);
      wake = undefined;
    }
    writing = false;
    const waiting = idle;
    idle = [];
    for (const w of waiting) w();
  }

  function refuse(reason: RejectReason, detail: string, sensorId?: string): SubmitOutcome {
    ingest.emit('rejected', reason, detail, sensorId);
    return { ok: false, reason, detail };
  }

  Object.assign(ingest, {
    latest,
    async start() {
      for (const [id, r] of await store.latest()) latest.set(id, r);
    },
    reject(reason: RejectReason, detail: string, sensorId?: string) {
      refuse(reason, detail, sensorId);
    },
    submit(sensorId: string, payload: Uint8Array): Promise<SubmitOutcome> {
      const sensor = lookup(sensorId);
      if (!sensor) return Promise.resolve(refuse('unknown_sensor', `no sensor ${sensorId}`, sensorId));
      const parsed = parseReading(payload, sensor, now());
      if (!parsed.ok) return Promise.resolve(refuse(parsed.reason, parsed.detail, sensorId));
      return new Promise<SubmitOutcome>((resolve, reject) => {
        queue.push({ reading: parsed.reading, sensor, settle: { ok: (reading) => resolve({ ok: true, reading }), fail: reject } });
        schedule();
      });
    },
    submitMany(items: readonly SubmitItem[]): Promise<void> {
      const at = now();
      let group: ReturnType<typeof settleGroup> | undefined;
      let done = Promise.resolve();
      for (const { sensorId, payload } of items) {
        const sensor = lookup(sensorId);
        if (!sensor) {
          refuse('unknown_sensor', `no sensor ${sensorId}`, sensorId);
          continue;
        }
        const parsed = parseReading(payload, sensor, at);
        if (!parsed.ok) {
          refuse(parsed.reason, parsed.detail, sensorId);
          continue;
        }
        if (!group) {
          let made!: ReturnType<typeof settleGroup>;
          done = new Promise<void>((resolve, reject) => (made = settleGroup(resolve, reject))); // the executor runs now
          group = made;
        }
        group.remaining++;
        queue.push({ reading: parsed.reading, sensor, settle: group });
      }
      if (group) schedule();
      return done;
    },
    drain(): Promise<void> {
      if (!writing && !scheduled && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  });
  return ingest;
}
