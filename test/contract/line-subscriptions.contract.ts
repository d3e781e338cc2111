import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LineSubscriptionRepository } from '../../services/core/line-conversation.ts';

/** One contract for every LineSubscriptionRepository adapter (the pattern of reading-store.contract.ts). */
export function describeLineSubscriptionsContract(h: { name: string; durable: boolean; open: () => { repo: LineSubscriptionRepository; close: () => void; reopen?: () => LineSubscriptionRepository } }) {
  const A = `U${'a'.repeat(32)}`;
  const B = `U${'b'.repeat(32)}`;
  describe(`LineSubscriptionRepository contract: ${h.name}`, () => {
    let opened: ReturnType<typeof h.open>;
    let repo: LineSubscriptionRepository;
    beforeEach(() => {
      opened = h.open();
      repo = opened.repo;
    });
    afterEach(() => opened.close());

    it('remembers a user and their language, and changes it', () => {
      expect(repo.langOf(A)).toBeUndefined();
      repo.saveUser(A, 'en', 1);
      expect(repo.langOf(A)).toBe('en');
      repo.saveUser(A, 'ja', 2);
      expect(repo.langOf(A)).toBe('ja');
    });

    it('subscribes, changes a level in place, lists, and finds subscribers by sensor with their language', () => {
      repo.saveUser(A, 'en', 1);
      repo.subscribe({ userId: A, sensorId: 's-2', minLevel: 'warning' }, 1);
      repo.subscribe({ userId: A, sensorId: 's-1', minLevel: 'warning' }, 1);
      repo.subscribe({ userId: A, sensorId: 's-1', minLevel: 'danger' }, 2);
      repo.subscribe({ userId: B, sensorId: 's-1', minLevel: 'caution' }, 3); // unknown user: stored as Japanese
      expect(repo.subscriptionsOf(A)).toEqual([
        { userId: A, sensorId: 's-1', minLevel: 'danger' },
        { userId: A, sensorId: 's-2', minLevel: 'warning' },
      ]);
      expect(repo.subscribersOf('s-1')).toEqual([
        { userId: A, minLevel: 'danger', lang: 'en' },
        { userId: B, minLevel: 'caution', lang: 'ja' },
      ]);
      expect(repo.counts()).toEqual({ users: 2, subscriptions: 3 });
    });

    it('unsubscribes one or all', () => {
      repo.subscribe({ userId: A, sensorId: 's-1', minLevel: 'warning' }, 1);
      repo.subscribe({ userId: A, sensorId: 's-2', minLevel: 'warning' }, 1);
      repo.subscribe({ userId: A, sensorId: 's-3', minLevel: 'warning' }, 1);
      expect(repo.unsubscribe(A, 's-1')).toBe(true);
      expect(repo.unsubscribe(A, 's-1')).toBe(false);
      expect(repo.unsubscribeAll(A)).toBe(2);
      expect(repo.subscriptionsOf(A)).toEqual([]);
      expect(repo.langOf(A)).toBe('ja'); // still a friend
    });

    it('names the most-subscribed sensors, most first, ties by id', () => {
      const C = `U${'c'.repeat(32)}`;
      for (const [u, s] of [[A, 's-2'], [B, 's-2'], [C, 's-2'], [A, 's-1'], [B, 's-3'], [C, 's-1']] as const) repo.subscribe({ userId: u, sensorId: s, minLevel: 'warning' }, 1);
      expect(repo.popularSensors(2)).toEqual([
        { sensorId: 's-2', subscribers: 3 },
        { sensorId: 's-1', subscribers: 2 },
      ]);
      expect(repo.popularSensors(10).length).toBe(3);
    });

    it('keeps admin settings', () => {
      expect(repo.getSetting('quota_short_min_level')).toBeUndefined();
      repo.putSetting('quota_short_min_level', 'warning', 1);
      repo.putSetting('quota_short_min_level', 'danger', 2);
      expect(repo.getSetting('quota_short_min_level')).toBe('danger');
    });

    it('forgets a user entirely (unfollow)', () => {
      repo.saveUser(A, 'en', 1);
      repo.subscribe({ userId: A, sensorId: 's-1', minLevel: 'warning' }, 1);
      repo.subscribe({ userId: B, sensorId: 's-1', minLevel: 'warning' }, 1);
      repo.forgetUser(A);
      expect(repo.langOf(A)).toBeUndefined();
      expect(repo.subscriptionsOf(A)).toEqual([]);
      expect(repo.subscribersOf('s-1').map((s) => s.userId)).toEqual([B]);
      expect(repo.counts()).toEqual({ users: 1, subscriptions: 1 });
    });

    it('claims a webhook event id once, and forgets ids older than the window', () => {
      expect(repo.claimEvent('01HEVENT', 1_000, 10_000)).toBe(true);
      expect(repo.claimEvent('01HEVENT', 2_000, 10_000)).toBe(false);
      expect(repo.claimEvent('01HEVENT', 20_000, 10_000)).toBe(true);
    });

    if (h.durable) {
      it('keeps everything across a reopen', () => {
        repo.saveUser(A, 'en', 1);
        repo.subscribe({ userId: A, sensorId: 's-1', minLevel: 'danger' }, 1);
        repo.claimEvent('E1', 1);
        repo.putSetting('k', 'v', 1);
        const again = (opened.reopen as () => LineSubscriptionRepository)();
        expect(again.langOf(A)).toBe('en');
        expect(again.subscriptionsOf(A)).toEqual([{ userId: A, sensorId: 's-1', minLevel: 'danger' }]);
        expect(again.claimEvent('E1', 2)).toBe(false);
        expect(again.getSetting('k')).toBe('v');
      });
    }
  });
}
