import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../services/core/alerts/alert.ts';
import type { AlertEventRow, AlertRepository, DeliveryLogEntry } from '../../services/core/alerts/repository.ts';
import { codeOf } from '../helpers/domain-error.ts';

export interface OpenedAlerts {
  repo: AlertRepository;
  /** The same data through a new connection (durable adapters only). */
  reopen?: () => AlertRepository;
  close: () => void;
}

export const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id, sensorId: 's-1', kind: 'flood', severity: 'warning', peakSeverity: 'warning', cause: 'level', state: 'raised', rising: false,
  levelCm: 22, observedAt: 1_000, batteryV: undefined, raisedAt: 1_000, updatedAt: 1_000,
  acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined,
  ...over,
});
const event = (type: AlertEventRow['type'], at: number, over: Partial<AlertEventRow> = {}): AlertEventRow => ({ type, at, severity: 'warning', levelCm: 22, actor: undefined, note: undefined, ...over });
const delivery = (n: number, over: Partial<DeliveryLogEntry> = {}): DeliveryLogEntry => ({
  noticeId: `n${n}`, alertId: 'al_1', event: 'raised', recipientId: 'r1', channel: 'webhook', target: 'https://city.example', attempt: 1, ok: true, final: true,
  status: 200, error: undefined, durationMs: 12.5, at: n, ...over,
});


/** One contract for every AlertRepository adapter (issue 16; the pattern of reading-store.contract.ts). */
export function describeAlertsContract(h: { name: string; open: () => OpenedAlerts }) {
  describe(`AlertRepository contract: ${h.name}`, () => {
    let opened: OpenedAlerts;
    let repo: AlertRepository;
    beforeEach(() => {
      opened = h.open();
      repo = opened.repo;
    });
    afterEach(() => opened.close());

    it('stores an alert with its timeline, updates both, and reads them back as written', () => {
      const a = alert('al_1');
      repo.insert(a, event('raised', 1_000, { note: 'level' }));
      expect(repo.get('al_1')).toEqual(a);
      const acked = { ...a, state: 'acknowledged' as const, acknowledgedAt: 2_000, acknowledgedBy: 'sato', ackNote: '現地確認中', updatedAt: 2_000, batteryV: 3.6 };
      repo.update(acked, event('acknowledged', 2_000, { actor: 'sato', note: '現地確認中' }));
      repo.update({ ...acked, levelCm: 25, updatedAt: 2_500 }, undefined);
      expect(repo.get('al_1')).toEqual({ ...acked, levelCm: 25, updatedAt: 2_500 });
      expect(repo.events('al_1')).toEqual([event('raised', 1_000, { note: 'level' }), event('acknowledged', 2_000, { actor: 'sato', note: '現地確認中' })]);
      expect(repo.get('nope')).toBeUndefined();
      expect(repo.events('nope')).toEqual([]);
    });

    it('keeps one unresolved alert per sensor and kind (conflict), and allows a new one once resolved', () => {
      repo.insert(alert('al_1'), event('raised', 1_000));
      expect(codeOf(() => repo.insert(alert('al_2'), event('raised', 1_100)))).toBe('conflict');
      expect(codeOf(() => repo.insert(alert('al_1', { sensorId: 's-2' }), event('raised', 1_100)))).toBe('conflict');
      repo.insert(alert('al_3', { kind: 'offline', cause: 'offline' }), event('raised', 1_100));
      repo.update(alert('al_1', { state: 'resolved', resolvedAt: 3_000, resolvedReason: 'level_normal' }), event('resolved', 3_000));
      repo.insert(alert('al_4', { raisedAt: 4_000 }), event('raised', 4_000));
      expect(repo.active().map((a) => a.id)).toEqual(['al_3', 'al_4']);
    });

    it('lists active oldest first, and history newest first by sensor, period and limit', () => {
      repo.insert(alert('al_b', { raisedAt: 2_000 }), event('raised', 2_000));
      repo.insert(alert('al_a', { raisedAt: 1_000, sensorId: 's-2', state: 'resolved', resolvedAt: 1_500, resolvedReason: 'level_normal' }), event('raised', 1_000));
      repo.insert(alert('al_c', { raisedAt: 3_000, sensorId: 's-3', kind: 'low_battery', cause: 'low_battery' }), event('raised', 3_000));
      repo.insert(alert('al_d', { raisedAt: 3_000, sensorId: 's-3', state: 'resolved', resolvedAt: 3_500, resolvedReason: 'level_normal' }), event('raised', 3_000));
      expect(repo.active().map((a) => a.id)).toEqual(['al_b', 'al_c']);
      expect(repo.list({}).map((a) => a.id)).toEqual(['al_d', 'al_c', 'al_b', 'al_a']);
      expect(repo.list({ active: true }).map((a) => a.id)).toEqual(['al_c', 'al_b']);
      expect(repo.list({ sensorId: 's-3' }).map((a) => a.id)).toEqual(['al_d', 'al_c']);
      expect(repo.list({ limit: 2 }).map((a) => a.id)).toEqual(['al_d', 'al_c']);
      // Overlapping [1600, 2500]: al_a was resolved before it began, al_c/al_d raised after it ended.
      expect(repo.list({ from: 1_600, to: 2_500 }).map((a) => a.id)).toEqual(['al_b']);
      expect(repo.list({ from: 1_500, to: 1_000 }).map((a) => a.id)).toEqual(['al_a']);
    });

    it('logs deliveries: visible once listed, newest first, by alert and failures only; ignored after close', () => {
      repo.logDelivery(delivery(1));
      repo.logDelivery(delivery(2, { ok: false, final: false, status: 503, error: 'HTTP 503' }));
      repo.logDelivery(delivery(3, { alertId: 'al_2', channel: 'webpush', status: undefined }));
      expect(repo.deliveries({}).map((d) => d.at)).toEqual([3, 2, 1]);
      expect(repo.deliveries({ limit: 1 })).toEqual([delivery(3, { alertId: 'al_2', channel: 'webpush', status: undefined })]);
      expect(repo.deliveries({ alertId: 'al_1' }).map((d) => d.at)).toEqual([2, 1]);
      expect(repo.deliveries({ failedOnly: true })).toEqual([delivery(2, { ok: false, final: false, status: 503, error: 'HTTP 503' })]);
      repo.logDelivery(delivery(4));
      repo.close();
      repo.logDelivery(delivery(5));
      expect(repo.deliveries({}).map((d) => d.at)).toEqual([4, 3, 2, 1]);
    });

    it('keeps alert settings per sensor, replaced as a whole', () => {
      expect(repo.settings('s-1')).toBeUndefined();
      repo.setSettings('s-1', { preset: 'river_channel', standbyCm: 40 }, 1);
      expect(repo.settings('s-1')).toEqual({ preset: 'river_channel', standbyCm: 40 });
      repo.setSettings('s-1', { preset: 'road_underpass' }, 2);
      expect(repo.settings('s-1')).toEqual({ preset: 'road_underpass' });
    });

    it('what it returns is the caller\'s: changing it changes nothing stored', () => {
      repo.insert(alert('al_1'), event('raised', 1_000));
      const got = repo.get('al_1') as Alert;
      got.severity = 'danger';
      (repo.active()[0] as Alert).levelCm = 99;
      (repo.events('al_1')[0] as AlertEventRow).note = 'x';
      expect(repo.get('al_1')).toEqual(alert('al_1'));
      expect(repo.events('al_1')[0]?.note).toBeUndefined();
    });

    it('keeps alerts, timelines, settings and flushed deliveries for a new connection', (ctx) => {
      if (!opened.reopen) return ctx.skip();
      repo.insert(alert('al_1'), event('raised', 1_000));
      repo.setSettings('s-1', { preset: 'river_channel' }, 1);
      repo.logDelivery(delivery(1));
      repo.flushDeliveries();
      const again = opened.reopen();
      expect(again.active()).toEqual([alert('al_1')]);
      expect(again.events('al_1')).toEqual([event('raised', 1_000)]);
      expect(again.settings('s-1')).toEqual({ preset: 'river_channel' });
      expect(again.deliveries({})).toEqual([delivery(1)]);
    });
  });
}
