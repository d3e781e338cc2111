import type { Recipient } from '../core/alerts/channel.ts';
import type { RecipientRepository } from '../core/alerts/repository.ts';
import { createError } from '../core/errors.ts';

/**
 * Stored alert recipients in memory (tests). Keeps exactly what the SQLite
 * adapter keeps (test/contract/recipients.contract.ts): staff preferences'
 * areas and quiet hours are not stored recipients' fields.
 */
export function createMemoryRecipients(): RecipientRepository {
  const rows: { recipient: Recipient; unsubscribeHash: string | undefined; createdAt: number }[] = [];
  const stored = (r: Recipient): Recipient => ({
    id: r.id,
    channel: r.channel,
    target: r.target,
    ...(r.subscription && { subscription: structuredClone(r.subscription) }),
    sensors: [...r.sensors],
    minSeverity: r.minSeverity,
    kinds: [...r.kinds],
    lang: r.lang,
    source: r.source,
    ...(r.label && { label: r.label }),
    ...(r.secret && { secret: r.secret }),
  });
  return {
    list: () =>
      rows
        .slice()
        .sort((a, b) => a.createdAt - b.createdAt || (a.recipient.id < b.recipient.id ? -1 : a.recipient.id > b.recipient.id ? 1 : 0))
        .map((x) => stored(x.recipient)),
    add(r, extra) {
      const clash = rows.some(
        (x) =>
          x.recipient.id === r.id ||
          (r.channel === 'webpush' && x.recipient.channel === 'webpush' && x.recipient.target === r.target) ||
          (extra.unsubscribeHash !== undefined && x.unsubscribeHash === extra.unsubscribeHash),
      );
      if (clash) throw createError('conflict', `recipient ${r.id}: id, push endpoint or unsubscribe token already stored`);
      rows.push({ recipient: stored(r), unsubscribeHash: extra.unsubscribeHash, createdAt: extra.now });
    },
    remove(id) {
      const i = rows.findIndex((x) => x.recipient.id === id);
      if (i < 0) return false;
      rows.splice(i, 1);
      return true;
    },
    findPush(by) {
      const x = by.endpoint
        ? rows.find((y) => y.recipient.channel === 'webpush' && y.recipient.target === by.endpoint)
        : rows.find((y) => y.unsubscribeHash === (by.unsubscribeHash ?? ''));
      return x && stored(x.recipient);
    },
  };
}
