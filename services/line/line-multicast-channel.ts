import type { AlertChannel, AlertNotice, DeliveryOutcome } from '../core/alerts/channel.ts';
import { buildAlertPush, LINE_LIMITS, type LevelTrend, type LineLang } from '../core/line-conversation.ts';
import { describeDeliveryError, outcomeOfStatus } from '../alerting/outbound.ts';
import { retryKeyOf, type LineApi } from './line-api.ts';

/**
 * One multicast attempt of one notice to up to 500 residents in one language.
 * 2xx, and LINE's 409 for a retry key it already accepted, are delivered;
 * 408/425/429/5xx and network errors are worth retrying (with LINE's
 * Retry-After, when it sent one); other 4xx and outbound-policy refusals are
 * permanent. The retry key is derived from `seed`, so every retry of one
 * request carries the same key.
 */
export async function attemptMulticast(
  api: LineApi,
  notice: AlertNotice,
  lang: LineLang,
  to: string[],
  seed: string,
  signal?: AbortSignal,
  trend?: LevelTrend,
): Promise<{ outcome: DeliveryOutcome; retryAfterS: number | undefined }> {
  if (to.length < 1 || to.length > LINE_LIMITS.multicastMax) return { outcome: { ok: false, error: `multicast takes 1-${LINE_LIMITS.multicastMax} ids`, permanent: true }, retryAfterS: undefined };
  try {
    const a = await api.multicast(to, [buildAlertPush(lang, notice, trend)], retryKeyOf(seed), signal);
    if (a.status === 409) return { outcome: { ok: true, status: 409, detail: 'already accepted (retry key)' }, retryAfterS: undefined };
    return { outcome: outcomeOfStatus(a.status), retryAfterS: a.retryAfterS };
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const error = describeDeliveryError(err);
    return { outcome: { ok: false, error, permanent: error.startsWith('outbound_refused') }, retryAfterS: undefined };
  }
}

/**
 * The residents' multicast as an AlertChannel adapter, so it is judged by the
 * one channel contract suite (test/contract/alert-channel.contract.ts): the
 * recipient is a group of residents, its `target` their comma-separated LINE
 * user ids (at most 500), its `lang` their language.
 */
export function createLineMulticastChannel(options: { api: LineApi }): AlertChannel {
  return {
    kind: 'line',
    async send(notice, recipient, signal) {
      const to = recipient.target.split(',').filter(Boolean);
      const { outcome } = await attemptMulticast(options.api, notice, recipient.lang, to, `${notice.noticeId}|${recipient.id}`, signal);
      return outcome;
    },
    async close() {
      options.api.close();
    },
  };
}
