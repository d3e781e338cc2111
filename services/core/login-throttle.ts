/**
 * Login throttling (issue 5): more than 5 failed sign-ins within one minute
 * from one address, or for one username, answers 429 until the window has
 * moved on. OWASP Authentication Cheat Sheet ("Protect Against Automated
 * Attacks"): throttle by account and by source, and answer the same way
 * whether or not the account exists, so the limit itself does not reveal
 * which usernames are real.
 *
 * Pure: the caller supplies the clock. Memory is bounded by `maxKeys`
 * (oldest keys are forgotten first) so a flood of random usernames cannot
 * grow it without limit.
 */
export const LOGIN_THROTTLE = {
  /** Failures allowed per key within the window; the next attempt is refused. */
  maxFailures: 5,
  windowMs: 60_000,
  maxKeys: 50_000,
} as const;

export interface LoginThrottle {
  /** Milliseconds until `keys` may try again, or 0 when they may now. */
  retryAfterMs(keys: readonly string[], now: number): number;
  recordFailure(keys: readonly string[], now: number): void;
  /** A successful sign-in clears the username's failures (not the address's). */
  clear(key: string): void;
}

export function createLoginThrottle(options: Partial<Record<keyof typeof LOGIN_THROTTLE, number>> = {}): LoginThrottle {
  const { maxFailures, windowMs, maxKeys } = { ...LOGIN_THROTTLE, ...options };
  const failures = new Map<string, number[]>();

  function recent(key: string, now: number): number[] {
    const list = failures.get(key);
    if (!list) return [];
    const kept = list.filter((t) => t > now - windowMs);
    if (kept.length) failures.set(key, kept);
    else failures.delete(key);
    return kept;
  }

  return {
    retryAfterMs(keys, now) {
      let wait = 0;
      for (const key of keys) {
        const list = recent(key, now);
        if (list.length >= maxFailures) {
          // Allowed again once enough failures have left the window.
          const oldestThatMustExpire = list[list.length - maxFailures] as number;
          wait = Math.max(wait, oldestThatMustExpire + windowMs - now);
        }
      }
      return wait;
    },
    recordFailure(keys, now) {
      for (const key of keys) {
        const list = recent(key, now);
        list.push(now);
        failures.delete(key); // re-insert: Map order is then least recently failed first
        failures.set(key, list.slice(-maxFailures * 2));
      }
      while (failures.size > maxKeys) failures.delete(failures.keys().next().value as string);
    },
    clear(key) {
      failures.delete(key);
    },
  };
}
