import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Recipient } from '../../services/core/alerts/channel.ts';
import type { RecipientRepository } from '../../services/core/alerts/repository.ts';
import { codeOf } from '../helpers/domain-error.ts';

export interface OpenedRecipients {
  repo: RecipientRepository;
  reopen?: () => RecipientRepository;
  close: () => void;
}

const webhook = (id: string, over: Partial<Recipient> = {}): Recipient => ({
  id, channel: 'webhook', target: `https://city.example/hook/${id}`, sensors: ['*'], minSeverity: 'warning', kinds: ['flood', 'offline'], lang: 'ja', source: 'api', label: '防災課', secret: 's3cret', ...over,
});
const push = (id: string, endpoint: string): Recipient => ({
  id, channel: 'webpush', target: endpoint, subscription: { endpoint, keys: { p256dh: 'BP-key', auth: 'auth-key' } }, sensors: ['s-1', 's-2'], minSeverity: 'danger', kinds: ['flood'], lang: 'en', source: 'resident',
});


/** One contract for every RecipientRepository adapter: staff recipients and residents' push subscriptions (issue 16). */
export function describeRecipientsContract(h: { name: string; open: () => OpenedRecipients }) {
  describe(`RecipientRepository contract: ${h.name}`, () => {
    let opened: OpenedRecipients;
    let repo: RecipientRepository;
    beforeEach(() => {
      opened = h.open();
      repo = opened.repo;
    });
    afterEach(() => opened.close());

    it('stores recipients and lists them oldest first, as given', () => {
      const p = push('ps_1', 'https://fcm.googleapis.com/fcm/send/abc');
      repo.add(webhook('rc_b'), { createdBy: 'sato', now: 2_000 });
      repo.add(p, { unsubscribeHash: 'uh1', client: '192.0.2.1', now: 1_000 });
      repo.add(webhook('rc_a', { label: undefined, secret: undefined, channel: 'email', target: 'bousai@city.example' }), { now: 2_000 });
      expect(repo.list()).toEqual([p, webhook('rc_a', { label: undefined, secret: undefined, channel: 'email', target: 'bousai@city.example' }), webhook('rc_b')]);
    });

    it('finds a push subscription by endpoint or by unsubscribe-token hash, and removes it once', () => {
      const p = push('ps_1', 'https://fcm.googleapis.com/fcm/send/abc');
      repo.add(p, { unsubscribeHash: 'uh1', now: 1 });
      repo.add(webhook('rc_1', { target: 'https://fcm.googleapis.com/fcm/send/abc' }), { now: 2 });
      expect(repo.findPush({ endpoint: p.target })).toEqual(p);
      expect(repo.findPush({ unsubscribeHash: 'uh1' })).toEqual(p);
      expect(repo.findPush({ unsubscribeHash: 'nope' })).toBeUndefined();
      expect(repo.findPush({ endpoint: 'https://fcm.googleapis.com/fcm/send/other' })).toBeUndefined();
      expect(repo.remove('ps_1')).toBe(true);
      expect(repo.remove('ps_1')).toBe(false);
      expect(repo.findPush({ endpoint: p.target })).toBeUndefined();
      expect(repo.list().map((r) => r.id)).toEqual(['rc_1']);
    });

    it('refuses a taken id, a second subscription for one endpoint, and a taken unsubscribe hash (conflict)', () => {
      repo.add(push('ps_1', 'https://push.example/1'), { unsubscribeHash: 'uh1', now: 1 });
      expect(codeOf(() => repo.add(webhook('ps_1'), { now: 2 }))).toBe('conflict');
      expect(codeOf(() => repo.add(push('ps_2', 'https://push.example/1'), { now: 2 }))).toBe('conflict');
      expect(codeOf(() => repo.add(push('ps_3', 'https://push.example/3'), { unsubscribeHash: 'uh1', now: 2 }))).toBe('conflict');
      expect(repo.list().map((r) => r.id)).toEqual(['ps_1']);
    });

    it('keeps what it was given: changing the object afterwards changes nothing stored', () => {
      const r = webhook('rc_1');
      repo.add(r, { now: 1 });
      r.sensors.push('s-9');
      (repo.list()[0] as Recipient).kinds.push('low_battery');
      expect(repo.list()).toEqual([webhook('rc_1')]);
    });

    it('keeps recipients for a new connection', (ctx) => {
      if (!opened.reopen) return ctx.skip();
      const p = push('ps_1', 'https://push.example/1');
      repo.add(p, { unsubscribeHash: 'uh1', now: 1 });
      const again = opened.reopen();
      expect(again.list()).toEqual([p]);
      expect(again.findPush({ unsubscribeHash: 'uh1' })).toEqual(p);
    });
  });
}
