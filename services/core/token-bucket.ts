/**
 * A token bucket (the classic traffic-shaping algorithm, e.g. RFC 2697's
 * committed burst): `burst` tokens when full, refilled continuously at
 * `ratePerMin`. Each unit of work takes one token; with none left it is
 * refused. Pure: the caller supplies the clock.
 *
 * @example
 * const limit = createRateLimiter({ ratePerMin: 120, burst: 1000 });
 * if (!limit.take('kinokawa-01', Date.now())) refuse('rate_limited');
 */
export interface RateLimiter {
  /** Take one token for `key` at time `now` (ms); false when its bucket is empty. */
  take(key: string, now: number): boolean;
  /** Milliseconds until `key` has a token again (0 when it has one now). */
  waitMs(key: string, now: number): number;
  /** Forget `key` (its bucket is full again next time). */
  forget(key: string): void;
  /** Number of keys with a bucket (for tests and memory bounds). */
  readonly size: number;
}

export interface RateLimiterOptions {
  ratePerMin: number;
  burst: number;
  /**
   * Most keys kept. Past it the least recently used bucket is dropped (it
   * starts full next time), so spraying keys costs bounded memory and never
   * resets the buckets of everyone else at once. Default: unbounded, for
   * keys that are bounded already (registered sensor ids).
   */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const perMs = options.ratePerMin / 60_000;
  const burst = options.burst;
  const maxKeys = options.maxKeys ?? Infinity;
  const buckets = new Map<string, Bucket>();
  const refill = (key: string, now: number): Bucket => {
    let b = buckets.get(key);
    if (!b) b = { tokens: burst, at: now };
    else {
      if (now > b.at) {
        b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
        b.at = now;
      }
      // Map order is insertion order: re-inserting keeps the oldest-used first.
      if (maxKeys !== Infinity) buckets.delete(key);
    }
    buckets.set(key, b);
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
    return b;
  };
  return {
    take(key, now) {
      const b = refill(key, now);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    waitMs(key, now) {
      const b = buckets.get(key);
      if (!b) return 0;
      const tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
      return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / perMs);
    },
    forget(key) {
      buckets.delete(key);
    },
    get size() {
      return buckets.size;
    },
  };
}
