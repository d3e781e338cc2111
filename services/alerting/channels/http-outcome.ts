import type { DeliveryOutcome } from '../../core/alerts/channel.ts';

/**
 * Map an HTTP answer to a delivery outcome: 2xx delivered; 408, 425, 429 and
 * 5xx worth retrying (RFC 9110 §15.5.9, §15.6; RFC 6585 §4); any other 4xx
 * means the request itself is wrong and retrying cannot help.
 */
export async function outcomeOf(res: Response): Promise<DeliveryOutcome> {
  const text = await res.text().catch(() => '');
  if (res.ok) return { ok: true, status: res.status };
  const retryable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
  return { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, permanent: !retryable };
}
