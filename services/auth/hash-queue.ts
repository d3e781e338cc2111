/**
 * A fair queue for password hashes (issue 10, item 9).
 *
 * One scrypt hash at the OWASP parameters costs about 0.65 s and 128 MiB, so
 * only `maxConcurrent` run at once and at most `maxWaiting` wait
 * (services/auth/passwords.ts says why). A single FIFO let one address take
 * all of it: 70 parallel attempts filled the queue and a correct sign-in from
 * elsewhere got 503 for about 90 s. Now the queue is fair per source (the
 * client's address key):
 *
 * - **Round-robin.** Each source has its own FIFO; a slot that frees goes to
 *   the next source in turn (fair queueing with one hash as the quantum), so
 *   a newcomer waits for at most one hash per other busy source, not for
 *   everything queued before it.
 * - **Per-source cap.** A source holds at most `maxPerSource` hashes, running
 *   and waiting; more are refused at once, without hashing
 *   (`HashBusyError`, scope `source`: the sign-in route answers 429).
 * - **Longest queue drop.** When the whole queue is full, a newcomer takes the
 *   place of the newest waiter of the source with the most waiters, if that
 *   source has more than the newcomer's would have. Only when every source
 *   has as few waiting as the newcomer would is the newcomer refused
 *   (scope `global`: 503, a real overload from many addresses).
 *
 * No timers and no I/O: the work is the caller's `fn`.
 */
export type HashBusyScope = 'source' | 'global';

export class HashBusyError extends Error {
  override readonly name = 'HashBusyError';
  constructor(
    message: string,
    /** `source`: this address has too many hashes queued (→ 429); `global`: every slot and place is taken (→ 503). */
    readonly scope: HashBusyScope = 'global',
  ) {
    super(message);
  }
}

export interface HashQueueOptions {
  maxConcurrent: number;
  maxWaiting: number;
}

export interface HashSlotRequest {
  /** Who asks: the client's address key. Work without one (an admin creating a user, the CLI, tests) shares one internal source. */
  source?: string | undefined;
  /** Most hashes this source may hold, running and waiting; no cap when left out. */
  maxPerSource?: number | undefined;
}

export interface HashQueue {
  /** Run `fn` when a slot is free; rejects with HashBusyError (and never runs `fn`) when refused or displaced. */
  run<T>(fn: () => Promise<T>, request?: HashSlotRequest): Promise<T>;
  /** Running and waiting hashes (for tests and metrics). */
  stats(): { running: number; waiting: number; sources: number };
}

interface Waiter {
  start(): void;
  displace(err: HashBusyError): void;
}

const INTERNAL_SOURCE = '\0internal';

/**
 * Default per-address cap (SIGNIN_MAX_HASHES_PER_ADDRESS): as many as the
 * sign-in throttle lets one address try for one username (its `maxPerPair`),
 * so parallel tries are refused by the throttle, which counts them, rather
 * than for capacity; an office behind one NAT gets 5 sign-ins at once and the
 * 6th is asked to retry in a second.
 */
export const MAX_HASHES_PER_ADDRESS = 5;

/**
 * @example
 * const queue = createHashQueue({ maxConcurrent: 2, maxWaiting: 64 });
 * const key = await queue.run(() => scryptAsync(...), { source: '203.0.113.7', maxPerSource: 5 });
 */
export function createHashQueue(options: HashQueueOptions): HashQueue {
  const { maxConcurrent, maxWaiting } = options;
  let running = 0;
  let waiting = 0;
  /** Sources with waiters, in round-robin order (the next to be served first). */
  const flows = new Map<string, Waiter[]>();
  /** Hashes each source holds, running and waiting. */
  const held = new Map<string, number>();

  function hold(source: string, delta: number): void {
    const n = (held.get(source) ?? 0) + delta;
    if (n > 0) held.set(source, n);
    else held.delete(source);
  }

  /** A hash finished: its slot goes to the next source in turn, which then moves to the back of the round. */
  function handOver(): void {
    const first = flows.entries().next();
    if (first.done) {
      running--;
      return;
    }
    const [source, queue] = first.value;
    const waiter = queue.shift() as Waiter;
    flows.delete(source);
    if (queue.length) flows.set(source, queue);
    waiting--;
    waiter.start();
  }

  /** Make room by displacing the newest waiter of the longest queue, if it is longer than `ownLength`. */
  function displaceLongest(ownLength: number): boolean {
    let longest: [string, Waiter[]] | undefined;
    for (const flow of flows) if (!longest || flow[1].length > longest[1].length) longest = flow;
    if (!longest || longest[1].length <= ownLength) return false;
    const [source, queue] = longest;
    const victim = queue.pop() as Waiter;
    if (!queue.length) flows.delete(source);
    waiting--;
    hold(source, -1);
    victim.displace(new HashBusyError('too many sign-ins in progress from this address', 'source'));
    return true;
  }

  return {
    async run(fn, request = {}) {
      const source = request.source ?? INTERNAL_SOURCE;
      if ((held.get(source) ?? 0) >= (request.maxPerSource ?? Infinity)) {
        throw new HashBusyError('too many sign-ins in progress from this address', 'source');
      }
      if (running < maxConcurrent) {
        running++;
        hold(source, 1);
      } else {
        const own = flows.get(source)?.length ?? 0;
        if (waiting >= maxWaiting && !displaceLongest(own + 1)) throw new HashBusyError('too many sign-ins in progress', 'global');
        hold(source, 1);
        waiting++;
        // Resolved by handOver (the slot is passed on, `running` unchanged) or rejected by displaceLongest.
        await new Promise<void>((start, displace) => {
          const queue = flows.get(source);
          if (queue) queue.push({ start, displace });
          else flows.set(source, [{ start, displace }]);
        });
      }
      try {
        return await fn();
      } finally {
        hold(source, -1);
        handOver();
      }
    },
    stats: () => ({ running, waiting, sources: held.size }),
  };
}
