import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { encryptWebPush } from './web-push-encrypt.mjs';

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
}

interface Job {
  id: number;
  payload: Uint8Array;
  p256dh: string;
  auth: string;
}

/** Jobs handed to a worker in one message: enough to amortise the message, small enough to spread a fan-out. */
const BATCH = 32;

/**
 * Web Push encryption on worker threads, so a fan-out to thousands of
 * subscribers uses the machine's other cores while the main thread sends
 * (the per-subscriber ECDH agreement of RFC 8291 is most of a push's CPU).
 * Jobs queued in one turn of the event loop go out in batches to the least
 * busy worker. With one core, or if a worker cannot start, it encrypts in
 * the calling thread.
 */
export function createEncryptPool(options: { workers?: number } = {}) {
  const size = options.workers ?? Math.min(4, Math.max(0, availableParallelism() - 1));
  const workers: { worker: Worker; inFlight: number }[] = [];
  const pending = new Map<number, Pending>();
  let queue: Job[] = [];
  let scheduled = false;
  let nextId = 1;
  let broken = size === 0;

  function failAll(err: Error): void {
    broken = true;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  for (let i = 0; i < size && !broken; i++) {
    try {
      const worker = new Worker(new URL('./web-push-encrypt.mjs', import.meta.url), { workerData: { role: 'kansui-web-push-encrypt' } });
      worker.unref();
      const entry = { worker, inFlight: 0 };
      worker.on('message', (results: { id: number; body?: Uint8Array; error?: string }[]) => {
        entry.inFlight -= results.length;
        for (const r of results) {
          const p = pending.get(r.id);
          pending.delete(r.id);
          if (!p) continue;
          if (r.body) p.resolve(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
          else p.reject(new Error(r.error ?? 'encryption failed'));
        }
      });
      worker.on('error', (err) => failAll(err));
      workers.push(entry);
    } catch {
      broken = true;
    }
  }

  function flush(): void {
    scheduled = false;
    while (queue.length) {
      const batch = queue.splice(0, BATCH);
      const target = workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      target.inFlight += batch.length;
      target.worker.postMessage(batch);
    }
  }

  return {
    encrypt(payload: Buffer, p256dh: string, auth: string): Promise<Buffer> {
      if (broken || workers.length === 0) {
        try {
          return Promise.resolve(encryptWebPush(payload, p256dh, auth));
        } catch (err) {
          return Promise.reject(err as Error);
        }
      }
      const id = nextId++;
      return new Promise<Buffer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        queue.push({ id, payload, p256dh, auth });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close(): Promise<void> {
      broken = true;
      failAll(new Error('shutting down'));
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}
export type EncryptPool = ReturnType<typeof createEncryptPool>;
