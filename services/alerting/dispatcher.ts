import { setMaxListeners } from 'node:events';
import type { AlertChannel, AlertNotice, ChannelKind, DeliveryOutcome, Recipient } from '../core/alerts/channel.ts';
import type { DeliveryLogEntry } from '../core/alerts/repository.ts';
import { describeDeliveryError } from './outbound.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Wait before the 2nd attempt; doubles each time (exponential backoff) up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One attempt is abandoned after this long, so a hung receiver cannot hold a slot. */
  timeoutMs: number;
}

/**
 * Defaults: 6 attempts over about a minute (1 + 2 + 4 + 8 + 16 s between them)
 * covers a receiver restarting; 10 s per attempt is longer than any healthy
 * webhook, LINE or push service takes to answer.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000, timeoutMs: 10_000 };

/**
 * Parallel attempts per channel. Web Push is high because one alert may fan
 * out to thousands of residents (issue 4 benchmark: 10,000 subscribers in ≤ 1 s);
 * the others go to a handful of staff systems.
 */
export const DEFAULT_CONCURRENCY: Record<ChannelKind, number> = { webpush: 256, webhook: 16, line: 16, email: 8 };

export interface DispatcherOptions {
  channels: readonly AlertChannel[];
  log: (entry: DeliveryLogEntry) => void;
  retry?: Partial<RetryPolicy>;
  concurrency?: Partial<Record<ChannelKind, number>>;
  now?: () => number;
  /** Told when a recipient is gone for good (e.g. Web Push 404/410: the subscription expired). */
  onGone?: (recipient: Recipient, outcome: DeliveryOutcome) => void;
}

interface Job {
  notice: AlertNotice;
  recipient: Recipient;
  attempt: number;
}

/** What staff see as the target of a delivery; a push endpoint is a secret capability URL, so only its origin. */
export function describeTarget(r: Recipient): string {
  if (r.channel !== 'webpush') return r.target;
  try {
    return `${new URL(r.target).origin}/…`;
  } catch {
    return 'push endpoint';
  }
}

/**
 * Sends notices through channels: one queue per channel, so a slow or failing
 * channel never delays another; several attempts in flight per channel, so a
 * slow receiver does not delay the rest of its channel; retries with
 * exponential backoff; every attempt reported to `log` (the staff-visible
 * delivery log).
 */
export function createDispatcher(options: DispatcherOptions) {
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const concurrency = { ...DEFAULT_CONCURRENCY, ...options.concurrency };
  const now = options.now ?? Date.now;
  const channels = new Map(options.channels.map((c) => [c.kind, c]));
  const queues = new Map<ChannelKind, { jobs: Job[]; running: number }>();
  const timers = new Set<NodeJS.Timeout>();
  const aborters = new Set<AbortController>();
  /**
   * Attempts of a channel that start within one short window share one
   * deadline signal, which aborts `timeoutMs` after the window closes: a
   * fan-out starts thousands of attempts a second, and a timer plus an
   * AbortController each was a measurable share of a push's CPU. An attempt
   * is therefore abandoned after between timeoutMs and timeoutMs + window.
   */
  const deadlineWindowMs = Math.min(250, retry.timeoutMs / 10);
  const deadlines = new Map<ChannelKind, { openUntil: number; controller: AbortController }>();
  const deadlineTimers = new Set<NodeJS.Timeout>();
  function deadlineFor(kind: ChannelKind): AbortSignal {
    const t = performance.now();
    const current = deadlines.get(kind);
    if (current && t < current.openUntil) return current.controller.signal;
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // one listener per attempt in flight, by design
    aborters.add(controller);
    const timer = setTimeout(() => {
      deadlineTimers.delete(timer);
      aborters.delete(controller);
      controller.abort(new Error(`timed out after ${retry.timeoutMs} ms`));
    }, retry.timeoutMs + deadlineWindowMs);
    timer.unref(); // an attempt in flight keeps the process busy, not its deadline
    deadlineTimers.add(timer);
    deadlines.set(kind, { openUntil: t + deadlineWindowMs, controller });
    return controller.signal;
  }
  /**
   * Order per recipient and alert: a recipient's next notice about an alert
   * waits until the previous one about it is finished, so nobody reads
   * "escalated" before "raised". Notices about different alerts go in parallel,
   * so a city webhook following 1,000 sensors is not served one at a time.
   */
  const backlog = new Map<string, Job[]>();
  const orderKey = (job: Job) => `${job.recipient.id}\u0000${job.notice.alert.id}`;
  let idleWaiters: (() => void)[] = [];
  let closed = false;

  function busy(): boolean {
    if (timers.size || backlog.size) return true;
    for (const q of queues.values()) if (q.jobs.length || q.running) return true;
    return false;
  }

  function checkIdle(): void {
    if (busy()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  }

  function queueFor(kind: ChannelKind) {
    let q = queues.get(kind);
    if (!q) queues.set(kind, (q = { jobs: [], running: 0 }));
    return q;
  }

  function pump(kind: ChannelKind): void {
    const q = queueFor(kind);
    const channel = channels.get(kind);
    while (channel && !closed && q.running < concurrency[kind] && q.jobs.length) {
      const job = q.jobs.shift() as Job;
      q.running++;
      void attempt(channel, job).finally(() => {
        q.running--;
        pump(kind);
        checkIdle();
      });
    }
  }

  async function attempt(channel: AlertChannel, job: Job): Promise<void> {
    const started = performance.now();
    const signal = deadlineFor(channel.kind);
    let outcome: DeliveryOutcome;
    try {
      outcome = await channel.send(job.notice, job.recipient, signal);
    } catch (err) {
      // Our own deadline's words, or a class: never a thrown error's text, which may quote the remote side (issue 10).
      const error = signal.aborted ? String((signal.reason as Error | undefined)?.message ?? 'timeout') : describeDeliveryError(err);
      outcome = { ok: false, error, permanent: false };
    }
    const last = outcome.ok || outcome.permanent || job.attempt >= retry.attempts || closed;
    options.log({
      noticeId: job.notice.noticeId,
      alertId: job.notice.alert.id,
      event: job.notice.event,
      recipientId: job.recipient.id,
      channel: channel.kind,
      target: describeTarget(job.recipient),
      attempt: job.attempt,
      ok: outcome.ok,
      final: last,
      status: outcome.status,
      error: outcome.ok ? undefined : outcome.error,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      at: now(),
    });
    if (!outcome.ok && outcome.permanent) options.onGone?.(job.recipient, outcome);
    if (last) {
      release(orderKey(job));
      return;
    }
    const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (job.attempt - 1));
    const t = setTimeout(() => {
      timers.delete(t);
      queueFor(channel.kind).jobs.push({ ...job, attempt: job.attempt + 1 });
      pump(channel.kind);
      checkIdle();
    }, delay);
    timers.add(t);
  }

  function release(key: string): void {
    const waiting = backlog.get(key);
    const next = waiting?.shift();
    if (!next) {
      backlog.delete(key);
      return;
    }
    if (closed) return;
    queueFor(next.recipient.channel).jobs.push(next);
    pump(next.recipient.channel);
  }

  return {
    /** Queue one notice for each recipient; returns at once. Each recipient gets the notices of one alert in order. */
    dispatch(notice: AlertNotice, recipients: readonly Recipient[]): void {
      if (closed) return;
      const touched = new Set<ChannelKind>();
      for (const r of recipients) {
        if (!channels.has(r.channel)) continue;
        const job = { notice, recipient: r, attempt: 1 };
        const key = orderKey(job);
        const waiting = backlog.get(key);
        if (waiting) {
          waiting.push(job);
          continue;
        }
        backlog.set(key, []);
        queueFor(r.channel).jobs.push(job);
        touched.add(r.channel);
      }
      for (const k of touched) pump(k);
    },
    /** Channels that are configured. */
    has: (kind: ChannelKind) => channels.has(kind),
    /** Resolves when nothing is queued, in flight or waiting to be retried. */
    idle(): Promise<void> {
      if (!busy()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /** Stop: pending retries are dropped, attempts in flight aborted. */
    async close(): Promise<void> {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const t of deadlineTimers) clearTimeout(t);
      deadlineTimers.clear();
      for (const q of queues.values()) q.jobs = [];
      backlog.clear();
      for (const a of aborters) a.abort(new Error('shutting down'));
      await Promise.all([...channels.values()].map((c) => c.close?.()));
      checkIdle();
    },
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
