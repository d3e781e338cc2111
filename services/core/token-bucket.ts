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
  /** Forget `key` (its bucket is full again next time). */
  forget(key: string): void;
  /** Number of keys with a bucket (for tests and memory bounds). */
  readonly size: number;
}

export interface RateLimiterOptions {
  ratePerMin: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const perMs = options.ratePerMin / 60_000;
  const burst = options.burst;
  const buckets = new Map<string, Bucket>();
  return {
    take(key, now) {
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = { tokens: burst, at: now }));
      else if (now > b.at) {
        b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
        b.at = now;
      }
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    forget(key) {
      buckets.delete(key);
    },
    get size() {
      return buckets.size;
    },
  };
}
