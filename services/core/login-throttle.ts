/**
 * Sign-in throttling (issue 5; reworked for issue 10, items 8 and 10).
 *
 * An attempt is counted when it is admitted, before its password hash runs,
 * and the check and the count happen in one synchronous step: parallel
 * requests cannot all pass the check before the first failure is recorded
 * (item 8). A success gives its reservation back; a failure keeps it.
 *
 * Three counters, because each stops a different attack (OWASP Authentication
 * Cheat Sheet, "Protect Against Automated Attacks": brute force, credential
 * stuffing, password spraying):
 *
 * - **username from one address** (`maxPerPair` a `windowMs`): guessing one
 *   account from one place. 429 for that pair only, so an attacker hammering
 *   `admin` blocks nobody but himself (item 10).
 * - **address** (`maxPerAddress` a `windowMs`, any username): spraying many
 *   accounts from one place. Higher than the pair limit: staff behind one
 *   office NAT share it.
 * - **username from every address** (`userSlowAfter` failures a
 *   `userWindowMs`): a guessing attack spread over many addresses. The
 *   account is slowed down, not locked. OWASP (Authentication Cheat Sheet,
 *   "Account Lockout") wants the failure counter tied to the account, and
 *   warns that a lockout must not become a way to lock other users out.
 *   NIST SP 800-63B §5.2.2 ("Rate Limiting (Throttling)") names ways to keep
 *   the real owner in: accept attempts from addresses where the subscriber has
 *   already signed in, and make other attempts wait. So while the username is
 *   over its budget, addresses that signed in as it during the last
 *   `trustedForMs` go on as usual. All other addresses together get one
 *   attempt every `userSlowIntervalMs`.
 *
 * Unknown usernames are counted exactly like real ones, so a refusal never
 * tells whether an account exists.
 *
 * Pure: the caller passes the clock and an address key (services/api/
 * client-info.ts `addressBucket`, so an IPv6 /64 is one address). Memory is
 * bounded: only failures leave keys behind, entries whose window has passed
 * are swept as new attempts come in, and each table keeps at most `maxKeys`
 * keys (least recently touched forgotten first).
 */
export const LOGIN_THROTTLE = {
  /** Failures for one username from one address within `windowMs`; the next attempt is refused (issue 5's 5 a minute). */
  maxPerPair: 5,
  /** Failures from one address, any username, within `windowMs`. */
  maxPerAddress: 20,
  windowMs: 60_000,
  /** Failures for one username from all addresses within `userWindowMs` before it is slowed down. */
  userSlowAfter: 20,
  /** 15 min: the observation window CIS benchmarks use for lockout counters ("reset account lockout counter after 15 minutes"). */
  userWindowMs: 15 * 60_000,
  /** While slowed: one attempt per this interval from addresses that have not signed in as the user. */
  userSlowIntervalMs: 30_000,
  /** An address stays trusted for a username this long after a successful sign-in from it: a month of shifts. */
  trustedForMs: 30 * 24 * 3600_000,
  /**
   * Keys per table (pairs, addresses, usernames, trusted addresses), a backstop: only failures leave keys behind (a
   * refused attempt makes none, a success or an unhashed attempt removes its own), and failures cost a password hash,
   * of which the service runs about 3 a second (2 at once, ~0.65 s each), so a 15-minute window holds ~2,700. At most
   * about 16 MiB with every table full of 64-character usernames and IPv6 keys (measured).
   */
  maxKeys: 10_000,
} as const;

export type LoginThrottleOptions = { [K in keyof typeof LOGIN_THROTTLE]: number };

/** Which limit refused an attempt or was just reached. */
export type ThrottleScope = 'pair' | 'address' | 'user';

export interface SignInAttempt {
  /** Lower-cased as typed, whether or not such a user exists. */
  username: string;
  /** The client's address key (`addressBucket(clientAddress(c))`). */
  source: string;
}

/** An admitted attempt: exactly one of its methods is called when its outcome is known. */
export interface SignInTicket {
  /** Wrong password or unknown user: the reservation stays as a failure. Returns the limits this failure has just reached. */
  failed(): ThrottleScope[];
  /** Signed in: the reservation is given back, the pair's failures are forgiven and the address becomes trusted for the user. */
  succeeded(now: number): void;
  /** Never evaluated (no hash slot): the reservation is given back. */
  cancelled(): void;
}

export type Admission =
  | { ok: true; ticket: SignInTicket; /** admitted through the slowed username's shared slot */ slowLane: boolean }
  | { ok: false; scope: ThrottleScope; retryAfterMs: number };

export interface LoginThrottle {
  /** Check every limit and, if none refuses, count the attempt now (before any hashing). */
  admit(attempt: SignInAttempt, now: number): Admission;
  /** Whether `source` has signed in as `username` within `trustedForMs`. */
  isTrusted(attempt: SignInAttempt, now: number): boolean;
  /** Keys held per table (for tests and to watch memory). */
  size(): { pairs: number; addresses: number; users: number; trusted: number };
}

interface Window {
  /** Attempt times, oldest first: failures and attempts still being evaluated. */
  times: number[];
}

interface UserWindow extends Window {
  /** While slowed: when the next untrusted attempt may be admitted. */
  nextSlotAt: number;
  /** Admitted attempts whose outcome is not known yet (their reservations must survive trimming). */
  pending: number;
}

/** How many expired keys one admission sweeps per table: amortised O(1), and enough to keep up (each admission adds at most one key). */
const SWEEP_PER_CALL = 4;

/**
 * @example
 * const throttle = createLoginThrottle({ maxPerPair: 5 });
 * const a = throttle.admit({ username: 'sato', source: '203.0.113.7' }, Date.now());
 * if (!a.ok) return tooMany(a.retryAfterMs);
 * (await verify()) ? a.ticket.succeeded(Date.now()) : a.ticket.failed();
 */
export function createLoginThrottle(options: Partial<LoginThrottleOptions> = {}): LoginThrottle {
  const o: LoginThrottleOptions = { ...LOGIN_THROTTLE, ...options };
  const pairs = new Map<string, Window>();
  const addresses = new Map<string, Window>();
  const users = new Map<string, UserWindow>();
  /** `username\naddress` → time of the last successful sign-in. */
  const trusted = new Map<string, number>();

  const pairKey = (a: SignInAttempt) => `${a.username}\n${a.source}`;

  function live<W extends Window>(table: Map<string, W>, key: string, windowMs: number, now: number): W | undefined {
    const w = table.get(key);
    if (!w) return undefined;
    let expired = 0;
    while (expired < w.times.length && (w.times[expired] as number) <= now - windowMs) expired++;
    if (expired) w.times.splice(0, expired);
    return w;
  }

  /** Move `key` to the back (most recently touched) and enforce `maxKeys`. */
  function touch<V>(table: Map<string, V>, key: string, value: V): void {
    table.delete(key);
    table.set(key, value);
    while (table.size > o.maxKeys) table.delete(table.keys().next().value as string);
  }

  /** Drop keys at the front (least recently touched) whose every attempt has left the window. */
  function sweep<W extends Window>(table: Map<string, W>, windowMs: number, now: number, keep: (w: W) => boolean = () => false): void {
    for (let i = 0; i < SWEEP_PER_CALL; i++) {
      const first = table.entries().next();
      if (first.done) return;
      const [key, w] = first.value;
      const last = w.times.at(-1);
      if ((last !== undefined && last > now - windowMs) || keep(w)) return;
      table.delete(key);
    }
  }

  function sweepTrusted(now: number): void {
    for (let i = 0; i < SWEEP_PER_CALL; i++) {
      const first = trusted.entries().next();
      if (first.done || first.value[1] > now - o.trustedForMs) return;
      trusted.delete(first.value[0]);
    }
  }

  /** Time until the oldest attempt that must leave the window for `times` to drop below `max` does so. */
  function waitBelow(times: readonly number[], max: number, windowMs: number, now: number): number {
    if (times.length < max) return 0;
    return (times[times.length - max] as number) + windowMs - now;
  }

  /** Give one reservation back; a key left with nothing to remember goes, so attempts that cost no hash leave no keys. */
  function removeOne<W extends Window>(table: Map<string, W>, key: string, w: W, t: number, now: number): void {
    if (table.get(key) !== w) return; // already forgotten (maxKeys)
    const i = w.times.lastIndexOf(t);
    if (i >= 0) w.times.splice(i, 1);
    const user = w as Partial<UserWindow>;
    if (w.times.length === 0 && !user.pending && (user.nextSlotAt ?? 0) <= now) table.delete(key);
  }

  function isTrusted(attempt: SignInAttempt, now: number): boolean {
    const at = trusted.get(pairKey(attempt));
    return at !== undefined && at > now - o.trustedForMs;
  }

  return {
    admit(attempt, now) {
      sweep(pairs, o.windowMs, now);
      sweep(addresses, o.windowMs, now);
      sweep(users, o.userWindowMs, now, (w) => w.nextSlotAt > now);
      sweepTrusted(now);

      const pk = pairKey(attempt);
      const pair = live(pairs, pk, o.windowMs, now) ?? { times: [] };
      const address = live(addresses, attempt.source, o.windowMs, now) ?? { times: [] };
      const user = live(users, attempt.username, o.userWindowMs, now) ?? { times: [], nextSlotAt: 0, pending: 0 };

      // Every limit that refuses; the client is told the longest wait among them.
      let refusal: { scope: ThrottleScope; retryAfterMs: number } | undefined;
      const refuse = (scope: ThrottleScope, retryAfterMs: number) => {
        if (retryAfterMs > 0 && (!refusal || retryAfterMs > refusal.retryAfterMs)) refusal = { scope, retryAfterMs };
      };
      refuse('pair', waitBelow(pair.times, o.maxPerPair, o.windowMs, now));
      refuse('address', waitBelow(address.times, o.maxPerAddress, o.windowMs, now));
      const slowed = user.times.length >= o.userSlowAfter && !isTrusted(attempt, now);
      if (slowed) {
        // Waiting for the shared slot; at the latest, the slowdown ends when enough failures leave the window.
        const slotIn = user.nextSlotAt - now;
        refuse('user', Math.min(slotIn, waitBelow(user.times, o.userSlowAfter, o.userWindowMs, now)));
      }
      if (refusal) return { ok: false, ...refusal };

      // Admitted: count it everywhere now, before the caller starts hashing.
      if (slowed) user.nextSlotAt = now + o.userSlowIntervalMs;
      pair.times.push(now);
      address.times.push(now);
      user.times.push(now);
      // The limits this attempt fills: reached (and worth a log line) if it fails.
      const fills: ThrottleScope[] = [];
      if (pair.times.length === o.maxPerPair) fills.push('pair');
      if (address.times.length === o.maxPerAddress) fills.push('address');
      if (user.times.length === o.userSlowAfter) fills.push('user');
      // The username's list only needs its newest `userSlowAfter` entries to decide, plus those still pending
      // (a success gives its own back); trusted addresses and the slow lane may add more.
      user.pending++;
      const keep = o.userSlowAfter + user.pending;
      if (user.times.length > keep) user.times.splice(0, user.times.length - keep);
      touch(pairs, pk, pair);
      touch(addresses, attempt.source, address);
      touch(users, attempt.username, user);

      let settled = false;
      const settle = () => {
        if (settled) throw new Error('sign-in ticket settled twice');
        settled = true;
        user.pending--;
      };
      return {
        ok: true,
        slowLane: slowed,
        ticket: {
          failed() {
            settle();
            return fills;
          },
          succeeded(at) {
            settle();
            if (pairs.get(pk) === pair) pairs.delete(pk); // forgiven: the owner got it right from here
            removeOne(addresses, attempt.source, address, now, at);
            removeOne(users, attempt.username, user, now, at);
            touch(trusted, pk, at);
          },
          cancelled() {
            settle();
            // A slot taken through the slow lane but never used is given back too.
            if (slowed && user.nextSlotAt === now + o.userSlowIntervalMs) user.nextSlotAt = now;
            removeOne(pairs, pk, pair, now, now);
            removeOne(addresses, attempt.source, address, now, now);
            removeOne(users, attempt.username, user, now, now);
          },
        },
      };
    },
    isTrusted,
    size: () => ({ pairs: pairs.size, addresses: addresses.size, users: users.size, trusted: trusted.size }),
  };
}
