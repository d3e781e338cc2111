import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { prepareWebPush } from './web-push-encrypt.mjs';

interface Pending {
  resolve: (key: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Job {
  id: number;
  p256dh: string;
  auth: string;
}

interface WorkerEntry {
  worker: Worker;
  inFlight: number;
}

/** Jobs handed to a worker in one message: enough to amortise the message, small enough to spread a fan-out. */
const BATCH = 32;
/** Background jobs done per turn of the event loop when there is no worker: about 3 ms, so the thread stays responsive. */
const INLINE_SLICE = 16;

/**
 * Web Push key preparation (./web-push-encrypt.mjs `prepareWebPush`: the
 * per-subscriber ECDH agreement of RFC 8291, most of a push's CPU) on worker
 * threads, so it uses the machine's other cores.
 *
 * Two priorities: `urgent` jobs (a push is waiting) go out at once, in
 * batches, to the least busy worker; background jobs (keys prepared ahead
 * for known subscribers) go out one batch at a time and only to an idle
 * worker, so they never queue in front of a push. Workers start on the first
 * job: a service with no push subscribers pays no thread for them. With one
 * core, or if a worker cannot start, the work runs in the calling thread
 * (background jobs in slices).
 */
export function createEncryptPool(options: { workers?: number } = {}) {
  const size = options.workers ?? Math.min(4, Math.max(0, availableParallelism() - 1));
  const workers: WorkerEntry[] = [];
  const pending = new Map<number, Pending>();
  let urgent: Job[] = [];
  const background: Job[] = [];
  let scheduled = false;
  let nextId = 1;
  let started = false;
  let broken = size === 0;
  let closed = false;

  function failAll(err: Error): void {
    broken = true;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function settle(job: { id: number }, key: Uint8Array | undefined, error: string | undefined): void {
    const p = pending.get(job.id);
    pending.delete(job.id);
    if (!p) return;
    if (key) p.resolve(key);
    else p.reject(new Error(error ?? 'key preparation failed'));
  }

  function start(): void {
    started = true;
    for (let i = 0; i < size && !broken; i++) {
      try {
        const worker = new Worker(new URL('./web-push-encrypt.mjs', import.meta.url), { workerData: { role: 'kansui-web-push-encrypt' } });
        worker.unref();
        const entry: WorkerEntry = { worker, inFlight: 0 };
        worker.on('message', (results: { id: number; key?: Uint8Array; error?: string }[]) => {
          entry.inFlight -= results.length;
          for (const r of results) settle(r, r.key, r.error);
          feedBackground();
        });
        worker.on('error', (err) => failAll(err));
        workers.push(entry);
      } catch {
        broken = true;
      }
    }
    if (!workers.length) broken = true;
  }

  function runInline(job: Job): void {
    try {
      settle(job, prepareWebPush(job.p256dh, job.auth), undefined);
    } catch (err) {
      settle(job, undefined, (err as Error).message);
    }
  }

  function feedBackground(): void {
    if (closed || !background.length) return;
    if (broken) {
      for (const job of background.splice(0, INLINE_SLICE)) runInline(job);
      if (background.length) setImmediate(feedBackground);
      return;
    }
    for (const w of workers) {
      if (w.inFlight > 0 || !background.length) continue;
      const batch = background.splice(0, BATCH);
      w.inFlight += batch.length;
      w.worker.postMessage(batch);
    }
  }

  function flush(): void {
    scheduled = false;
    const jobs = urgent;
    urgent = [];
    if (broken) {
      for (const job of jobs) runInline(job);
      return;
    }
    for (let i = 0; i < jobs.length; i += BATCH) {
      const batch = jobs.slice(i, i + BATCH);
      const target = workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      target.inFlight += batch.length;
      target.worker.postMessage(batch);
    }
  }

  return {
    /**
     * A prepared key (PREPARED_BYTES) for one message to this subscription.
     * `urgent: false` for keys made ahead of need.
     */
    prepare(p256dh: string, auth: string, urgency: { urgent: boolean } = { urgent: true }): Promise<Uint8Array> {
      if (closed) return Promise.reject(new Error('shutting down'));
      if (!started) start();
      if (broken && urgency.urgent) {
        try {
          return Promise.resolve(prepareWebPush(p256dh, auth));
        } catch (err) {
          return Promise.reject(err as Error);
        }
      }
      const id = nextId++;
      return new Promise<Uint8Array>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const job = { id, p256dh, auth };
        if (!urgency.urgent) {
          background.push(job);
          if (background.length === 1) setImmediate(feedBackground);
          return;
        }
        urgent.push(job);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close(): Promise<void> {
      closed = true;
      background.length = 0;
      failAll(new Error('shutting down'));
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}
export type EncryptPool = ReturnType<typeof createEncryptPool>;
