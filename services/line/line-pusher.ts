import { NOTIFIED_EVENTS, type Alert, type AlertEventType } from '../core/alerts/alert.ts';
import { composeNotice, type AlertNotice } from '../core/alerts/channel.ts';
import { rankLevel, type AlertSettings, type AlertSeverity } from '../core/alerts/policy.ts';
import { LINE_LIMITS, type LevelTrend, type LineLang, type LineSubscriptionRepository } from '../core/line-conversation.ts';
import type { SensorRegistry } from '../core/ports.ts';
import type { DeliveryLogEntry } from '../core/alerts/repository.ts';
import type { LineApi } from './line-api.ts';
import { attemptMulticast } from './line-multicast-channel.ts';

export interface LineRetry {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured (a longer one is waited this long). */
  maxRetryAfterMs: number;
}

/** The dispatcher's defaults (services/alerting/dispatcher.ts): 6 attempts, 1-2-4-8-16 s apart. */
export const DEFAULT_LINE_RETRY: LineRetry = { attempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 300_000 };

export interface LineQuotaState {
  /** Monthly messages in the plan; undefined when unlimited or not read yet. */
  limit: number | undefined;
  /** Messages used this month: LINE's figure at the last read plus what kansui sent since. */
  used: number;
  /** LINE's figure could be read at least once. */
  known: boolean;
}

export interface LinePusherDeps {
  repo: LineSubscriptionRepository;
  registry: SensorRegistry;
  api: LineApi;
  settingsOf: (sensorId: string) => AlertSettings;
  timeZone: string;
  baseUrl?: string;
  /** Every multicast attempt, as a delivery-log row (the staff delivery log and /metrics). */
  log: (entry: DeliveryLogEntry) => void;
  retry?: Partial<LineRetry>;
  /** Share of the monthly quota at which staff are warned and the short-quota rule applies (0–1). */
  quotaWarnShare: number;
  /** When the quota is short: only episodes that reached this level are pushed (read at each notice: an admin may change it). */
  quotaShortMinLevel: () => AlertSeverity;
  /** How often the quota is read (ms); 0: only at start. */
  quotaPollMs: number;
  onQuotaWarning: (q: LineQuotaState) => void;
  onError: (err: Error, context: string) => void;
  now: () => number;
  /** The sensor's trend at the time of the notice, when known (shown with time to the next level). */
  trendOf?: (sensorId: string) => LevelTrend | undefined;
}

/**
 * Alert notices to residents on LINE (issue 14): for each notified event of a
 * flood alert (raised, escalated, resolved: the episode and hysteresis of
 * services/core/alerts/, the same as every channel), every resident who
 * subscribed to the sensor at a level the episode reached gets one message in
 * their language, sent with `multicast` in chunks of at most 500 ids, never
 * one request per user. Each chunk is retried with backoff on 408/425/429/5xx
 * and network errors, waiting at least LINE's Retry-After, with the same
 * X-Line-Retry-Key each time so a resend after a lost answer is not
 * delivered twice (LINE answers 409 to a key it accepted). Notices of one
 * sensor go out in order.
 */
export function createLinePusher(deps: LinePusherDeps) {
  const retry = { ...DEFAULT_LINE_RETRY, ...deps.retry };
  const chains = new Map<string, Promise<void>>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const quota: LineQuotaState = { limit: undefined, used: 0, known: false };
  let warned = false;
  const sent = { messages: 0, requests: 0, skippedShort: 0 };

  function short(): boolean {
    return quota.limit !== undefined && quota.used >= quota.limit * deps.quotaWarnShare;
  }

  function checkWarn(): void {
    if (short() && !warned) {
      warned = true;
      deps.onQuotaWarning({ ...quota });
    } else if (!short()) warned = false;
  }

  async function readQuota(): Promise<void> {
    try {
      const q = await deps.api.quota();
      if (!q) return;
      quota.limit = q.limit;
      quota.used = q.used;
      quota.known = true;
      checkWarn();
    } catch (err) {
      deps.onError(err as Error, 'line quota');
    }
  }
  const quotaTimer = deps.quotaPollMs > 0 ? setInterval(() => void readQuota(), deps.quotaPollMs) : undefined;
  quotaTimer?.unref();
  const firstQuota = readQuota();

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });
  }

  async function sendChunk(notice: AlertNotice, lang: LineLang, to: string[], index: number, trend: LevelTrend | undefined): Promise<void> {
    const seed = `${notice.noticeId}|${lang}|${index}|${to.length}`;
    for (let attempt = 1; !closed; attempt++) {
      const started = performance.now();
      const { outcome, retryAfterS } = await attemptMulticast(deps.api, notice, lang, to, seed, undefined, trend);
      const last = outcome.ok || outcome.permanent || attempt >= retry.attempts;
      deps.log({
        noticeId: notice.noticeId,
        alertId: notice.alert.id,
        event: notice.event,
        recipientId: `line-residents:${lang}:${index}`,
        channel: 'line',
        target: `multicast ${to.length} residents (${lang})`,
        attempt,
        ok: outcome.ok,
        final: last,
        status: outcome.status,
        error: outcome.ok ? undefined : outcome.error,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        at: deps.now(),
      });
      if (outcome.ok) {
        sent.requests++;
        sent.messages += to.length; // LINE counts one message per recipient (Messaging API pricing)
        quota.used += to.length;
        checkWarn();
        return;
      }
      if (last) return;
      const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      const after = retryAfterS !== undefined ? Math.min(retry.maxRetryAfterMs, retryAfterS * 1000) : 0;
      await wait(Math.max(backoff, after));
    }
  }

  async function push(event: AlertEventType, alert: Alert, trend: LevelTrend | undefined): Promise<void> {
    const sensor = deps.registry.get(alert.sensorId);
    if (!sensor) return;
    // Same rule as wantsNotice (services/core/alerts/channel.ts): compared with the episode's peak, so whoever heard of it hears it end.
    const peak = rankLevel(alert.peakSeverity);
    if (short() && peak < rankLevel(deps.quotaShortMinLevel())) {
      sent.skippedShort++;
      return;
    }
    const byLang: Record<LineLang, string[]> = { ja: [], en: [] };
    for (const s of deps.repo.subscribersOf(alert.sensorId)) if (peak >= rankLevel(s.minLevel)) byLang[s.lang].push(s.userId);
    if (!byLang.ja.length && !byLang.en.length) return;
    const notice = composeNotice({ event, alert, sensor, settings: deps.settingsOf(alert.sensorId), timeZone: deps.timeZone, ...(deps.baseUrl && { baseUrl: deps.baseUrl }) });
    const chunks: Promise<void>[] = [];
    for (const lang of ['ja', 'en'] as const) {
      const ids = byLang[lang];
      for (let i = 0; i * LINE_LIMITS.multicastMax < ids.length; i++) chunks.push(sendChunk(notice, lang, ids.slice(i * LINE_LIMITS.multicastMax, (i + 1) * LINE_LIMITS.multicastMax), i, trend));
    }
    await Promise.all(chunks);
  }

  return {
    /** The alert engine's lifecycle hook (AlertingOptions.onEvent): flood notices that other channels also push. */
    onAlertEvent(event: AlertEventType, alert: Alert): void {
      if (closed || alert.kind !== 'flood' || !NOTIFIED_EVENTS.has(event)) return;
      inFlight++;
      // The trend as of this event: later readings may arrive before the push goes out.
      const trend = deps.trendOf?.(alert.sensorId);
      const prev = chains.get(alert.sensorId) ?? Promise.resolve();
      const next = prev
        .then(() => push(event, alert, trend))
        .catch((err: unknown) => deps.onError(err as Error, `line push for ${alert.sensorId}`))
        .finally(() => {
          if (chains.get(alert.sensorId) === next) chains.delete(alert.sensorId);
          if (--inFlight === 0) {
            const w = idleWaiters;
            idleWaiters = [];
            for (const f of w) f();
          }
        });
      chains.set(alert.sensorId, next);
    },
    quota: (): LineQuotaState & { short: boolean } => ({ ...quota, short: short() }),
    readQuota,
    /** Messages and multicast requests LINE accepted, and notices left unsent because the quota was short. */
    stats: () => ({ ...sent }),
    idle(): Promise<void> {
      return firstQuota.then(() => (inFlight ? new Promise<void>((r) => idleWaiters.push(r)) : undefined));
    },
    close(): void {
      closed = true;
      if (quotaTimer) clearInterval(quotaTimer);
      // A retry waiting its turn gives up now (the loop sees `closed`).
      for (const [t, resolve] of timers) {
        clearTimeout(t);
        resolve();
      }
      timers.clear();
    },
  };
}
export type LinePusher = ReturnType<typeof createLinePusher>;
