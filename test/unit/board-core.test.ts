import { describe, expect, it } from 'vitest';
import type { Alert } from '../../services/core/alerts/alert.ts';
import { describeAudit } from '../../services/core/audit-words.ts';
import { onBoard, orderBoard, rankBoardEntry, siteOf, statusName, type BoardInput } from '../../services/core/board.ts';
import type { Sensor } from '../../services/core/sensor.ts';

const T0 = Date.UTC(2026, 6, 1, 7, 5, 0); // 16:05 in Tokyo
const sensor = (id: string, name: string): Sensor => ({ id, name, lat: 34, lon: 135, thresholds: { caution: 10, warning: 20, danger: 30 }, intervalS: 600, kind: 'level', state: 'active' }) as unknown as Sensor;
const alert = (over: Partial<Alert>): Alert => ({
  id: 'al', sensorId: 's', kind: 'flood', severity: 'danger', peakSeverity: 'danger', cause: 'level', state: 'raised', rising: false, levelCm: 33, observedAt: T0, batteryV: undefined,
  raisedAt: T0, updatedAt: T0, acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined, ...over,
});
const entry = (id: string, over: Partial<BoardInput> = {}): BoardInput => ({
  sensor: sensor(id, id), reading: undefined, status: 'normal', alerts: [], settings: { preset: 'road_underpass' }, closure: undefined, peak: undefined, ...over,
});

describe('situation board order (pure)', () => {
  it('shows alerts, 注意 and above, and closures; worst first; unacknowledged before acknowledged; deeper first', () => {
    const rows = orderBoard([
      entry('normal'),
      entry('caution', { status: 'caution', reading: { levelCm: 12 } as never }),
      entry('danger-acked', { status: 'danger', reading: { levelCm: 40 } as never, alerts: [alert({ state: 'acknowledged' })] }),
      entry('danger-waiting', { status: 'danger', reading: { levelCm: 31 } as never, alerts: [alert({})] }),
      entry('offline', { status: 'offline', alerts: [alert({ kind: 'offline', severity: 'caution' })] }),
      entry('closed', { closure: { id: 'cl', sensorId: 'closed', segment: undefined, reason: 'x', since: T0, by: 'sato', liftedAt: undefined, liftedBy: undefined } }),
      entry('warning-deep', { status: 'warning', reading: { levelCm: 28 } as never }),
      entry('warning-shallow', { status: 'warning', reading: { levelCm: 21 } as never }),
    ]);
    expect(rows.map((r) => r.sensor.id)).toEqual(['danger-waiting', 'danger-acked', 'warning-deep', 'warning-shallow', 'offline', 'caution', 'closed']);
    expect(onBoard(entry('x'))).toBe(false);
    expect(rankBoardEntry(entry('x', { status: 'caution', alerts: [alert({ severity: 'warning' })] }))).toBe(3);
  });

  it('names the site and the status in the sensor’s own words', () => {
    expect(siteOf({ preset: 'river_channel' })).toBe('river');
    expect(statusName('danger', { preset: 'river_channel' }).ja).toBe('氾濫危険水位');
    expect(statusName('danger', { preset: 'road_underpass' })).toEqual({ ja: '危険', en: 'Danger' });
    expect(statusName('offline', { preset: 'road_underpass' }).ja).toBe('欠測');
  });
});

describe('audit log in words (pure)', () => {
  const base = { at: T0, actor: '佐藤', targetType: 'alert' as const, targetId: 'al_1', before: null };
  it('says an acknowledgement the way the issue writes it', () => {
    const w = describeAudit({ ...base, action: 'alert.acknowledge', after: { sensor_name: '打田駅前アンダーパス', severity: 'danger', level_name: '危険', note: '現地確認に向かう' } }, 'Asia/Tokyo');
    expect(w.en).toBe('佐藤 acknowledged 打田駅前アンダーパス 危険 at 16:05: 現地確認に向かう');
    expect(w.ja).toBe('16:05 佐藤 が 打田駅前アンダーパス の危険を確認：現地確認に向かう');
    expect(describeAudit({ ...base, action: 'alert.acknowledge', after: { sensor_name: 'X', severity: 'warning', note: null } }, 'Asia/Tokyo').en).toBe('佐藤 acknowledged X 警戒 at 16:05');
  });
  it('has words for every other action too', () => {
    expect(describeAudit({ ...base, action: 'closure.create', targetType: 'closure', after: { sensor_name: '打田', reason: '冠水' } }, 'Asia/Tokyo').ja).toBe('16:05 佐藤 が 打田 を通行止めに設定：冠水');
    expect(describeAudit({ ...base, action: 'session.login', targetType: 'session', after: null }, 'Asia/Tokyo').en).toBe('佐藤 signed in at 16:05');
    expect(describeAudit({ ...base, action: 'sensor.update', targetType: 'sensor', targetId: 's-1', before: { lat: 1, name: 'a' }, after: { lat: 2, name: 'a' } }, 'Asia/Tokyo').en).toBe('佐藤 changed sensor s-1 (lat) at 16:05');
    expect(describeAudit({ ...base, action: 'alert.recipient.add', targetType: 'route', targetId: 'rc_1', after: { channel: 'webhook', target: 'https://hooks.city.example/x', label: '防災課' } }, 'Asia/Tokyo').en).toBe('佐藤 added alert recipient webhook 防災課 at 16:05');
    expect(describeAudit({ ...base, action: 'alert.settings', targetType: 'sensor', targetId: 's-1', after: { sensor_name: '紀の川 船戸', preset: 'river_channel', thresholds: { caution: 100, warning: 150, danger: 200 } } }, 'Asia/Tokyo').ja).toBe('16:05 佐藤 が 紀の川 船戸 の警報設定を変更（river_channel 100/150/200 cm）');
    expect(describeAudit({ ...base, action: 'http.write', targetType: 'route', targetId: 'POST /api/x', after: { status: 200 } }, 'Asia/Tokyo').en).toBe('佐藤: POST /api/x at 16:05');
  });
});
