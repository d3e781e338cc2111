import type { PushSubscriptionJson } from '../../core/alerts/channel.ts';
import type { EncryptPool } from './web-push-encrypt-pool.ts';

export interface PreparedKeysOptions {
  pool: EncryptPool;
  /**
   * Keys kept ready per subscription. Two cover an alert's first notice and
   * an escalation right after it, before the refill has run.
   */
  depth?: number;
  /**
   * Subscriptions kept warm at most (about 0.6 KB each at depth 2, so the
   * default is about 30 MB); beyond it, pushes prepare their key when sent.
   */
  limit?: number;
  /** Quiet time after the last push before used keys are replaced, so refills never compete with a fan-out. */
  refillDelayMs?: number;
}

type Keys = PushSubscriptionJson['keys'];

const idOf = (k: Keys) => `${k.p256dh}.${k.auth}`;

/**
 * Web Push keys prepared ahead of time for known subscriptions, so a
 * fan-out to thousands of residents only seals payloads when the water
 * rises: the ECDH agreement RFC 8291 needs per subscriber and message is
 * done beforehand, in the background, on the encryption workers.
 *
 * Every key is taken (removed) to be used for exactly one message and is
 * then replaced by a new one: each message still has its own key pair and
 * salt, as RFC 8291 and RFC 8188 require. Keys live only in memory; after a
 * restart they are prepared again in the background.
 */
export function createPreparedKeys(options: PreparedKeysOptions) {
  const depth = options.depth ?? 2;
  const limit = options.limit ?? 50_000;
  const refillDelayMs = options.refillDelayMs ?? 2_000;
  const ready = new Map<string, { keys: Keys; stock: Uint8Array[]; wanted: number }>();
  const toRefill = new Set<string>();
  let refillTimer: NodeJS.Timeout | undefined;
  let lastTake = 0;
  let closed = false;

  function fill(id: string): void {
    const entry = ready.get(id);
    if (!entry || closed) return;
    const missing = depth - entry.stock.length - entry.wanted;
    for (let i = 0; i < missing; i++) {
      entry.wanted++;
      options.pool.prepare(entry.keys.p256dh, entry.keys.auth, { urgent: false }).then(
        (key) => {
          entry.wanted--;
          if (ready.get(id) === entry) entry.stock.push(key);
        },
        () => {
          // A bad key or shutdown: forget it; a push to it prepares (and reports) the error itself.
          entry.wanted--;
          if (ready.get(id) === entry) ready.delete(id);
        },
      );
    }
  }

  // One timer per quiet spell, not one per push: it re-arms itself while pushes keep taking keys.
  function scheduleRefill(): void {
    lastTake = performance.now();
    if (closed || refillTimer) return;
    const arm = (ms: number) => {
      refillTimer = setTimeout(() => {
        const quietFor = performance.now() - lastTake;
        if (quietFor < refillDelayMs) return arm(refillDelayMs - quietFor);
        refillTimer = undefined;
        for (const id of toRefill) fill(id);
        toRefill.clear();
      }, ms);
      refillTimer.unref();
    };
    arm(refillDelayMs);
  }

  return {
    /** Keep keys ready for these subscriptions (prepared in the background). */
    warm(subscriptions: Iterable<Keys>): void {
      for (const keys of subscriptions) {
        const id = idOf(keys);
        if (ready.has(id)) continue;
        if (ready.size >= limit) return;
        ready.set(id, { keys, stock: [], wanted: 0 });
        fill(id);
      }
    },
    /** A prepared key for one message, or undefined if none is ready; a used key is replaced after the next quiet spell. */
    take(keys: Keys): Uint8Array | undefined {
      const id = idOf(keys);
      const entry = ready.get(id);
      if (!entry) return undefined;
      const key = entry.stock.shift();
      toRefill.add(id);
      scheduleRefill();
      return key;
    },
    forget(keys: Keys): void {
      ready.delete(idOf(keys));
    },
    /** Subscriptions kept warm and keys ready, for tests and metrics. */
    stats(): { subscriptions: number; keys: number } {
      let keys = 0;
      for (const e of ready.values()) keys += e.stock.length;
      return { subscriptions: ready.size, keys };
    },
    close(): void {
      closed = true;
      clearTimeout(refillTimer);
      ready.clear();
    },
  };
}
