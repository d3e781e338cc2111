import { describe, expect, it } from 'vitest';
import {
  buildAlertPush,
  buildList,
  buildSearchResult,
  buildSubscribed,
  buildWelcome,
  distanceM,
  toLevelTrend,
  findSensors,
  formatPostback,
  LINE_LIMITS,
  parseLineCommand,
  parsePostback,
  sensorsNear,
} from '../../services/core/line-conversation.ts';
import { computeTrend } from '../../services/core/trend.ts';

const sensors = [
  { id: 'kinokawa-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Station Underpass', lat: 34.2711, lon: 135.3952, state: 'active' as const },
  { id: 'kinokawa-02', name: '粉河駅東', nameEn: undefined, lat: 34.28, lon: 135.41, state: 'active' as const },
  { id: 'kinokawa-03', name: '打田中学校前', nameEn: undefined, lat: 34.272, lon: 135.396, state: 'active' as const },
  { id: 'old-01', name: '打田旧道', nameEn: undefined, lat: 34.2711, lon: 135.3952, state: 'retired' as const },
];

describe('parseLineCommand: the rich-menu words typed or tapped', () => {
  it.each([
    ['登録 打田駅前', { type: 'subscribe', query: '打田駅前' }],
    ['登録　打田駅前　危険', { type: 'subscribe', query: '打田駅前', level: 'danger' }],
    ['subscribe Uchita Station Underpass', { type: 'subscribe', query: 'Uchita Station Underpass' }],
    ['一覧', { type: 'list' }],
    ['ＬＩＳＴ', { type: 'list' }],
    ['解除 粉河', { type: 'unsubscribe', query: '粉河' }],
    ['全て解除', { type: 'unsubscribe_all' }],
    ['すべて解除', { type: 'unsubscribe_all' }],
    ['unsubscribe all', { type: 'unsubscribe_all' }],
    ['レベル 打田 注意', { type: 'level', query: '打田', level: 'caution' }],
    ['level Uchita danger', { type: 'level', query: 'Uchita', level: 'danger' }],
    ['English', { type: 'lang', lang: 'en' }],
    ['日本語', { type: 'lang', lang: 'ja' }],
    ['ヘルプ', { type: 'help' }],
    ['打田', { type: 'search', query: '打田' }],
    ['レベル 打田', { type: 'search', query: 'レベル 打田' }],
  ])('%s', (text, expected) => {
    expect(parseLineCommand(text)).toEqual(expected);
  });
});

describe('postbacks', () => {
  it('round-trip and stay within 300 characters; junk is ignored', () => {
    for (const p of [{ action: 'sub', sensorId: 'kinokawa-01' }, { action: 'unsub', sensorId: 'x' }, { action: 'level', sensorId: 'kinokawa-01', level: 'danger' }] as const) {
      const data = formatPostback(p);
      expect(data.length).toBeLessThanOrEqual(300);
      expect(parsePostback(data)).toEqual(p);
    }
    expect(parsePostback('a=level&s=x&l=extreme')).toBeUndefined();
    expect(parsePostback('a=drop&s=x')).toBeUndefined();
    expect(parsePostback('')).toBeUndefined();
  });
});

describe('finding sensors', () => {
  it('by part of a name in either language, exact id or name first, retired ones never', () => {
    expect(findSensors(sensors, '打田').map((s) => s.id)).toEqual(['kinokawa-01', 'kinokawa-03']);
    expect(findSensors(sensors, 'uchita').map((s) => s.id)).toEqual(['kinokawa-01']);
    expect(findSensors(sensors, 'KINOKAWA-02').map((s) => s.id)).toEqual(['kinokawa-02']);
    expect(findSensors(sensors, '粉河駅東').map((s) => s.id)).toEqual(['kinokawa-02']);
    expect(findSensors(sensors, '  ')).toEqual([]);
  });

  it('by distance, nearest first', () => {
    expect(distanceM({ lat: 34.2711, lon: 135.3952 }, { lat: 34.272, lon: 135.396 })).toBeGreaterThan(100);
    expect(distanceM({ lat: 34.2711, lon: 135.3952 }, { lat: 34.272, lon: 135.396 })).toBeLessThan(130);
    expect(sensorsNear(sensors, { lat: 34.2719, lon: 135.3959 }, 500).map((s) => s.id)).toEqual(['kinokawa-03', 'kinokawa-01']);
    expect(sensorsNear(sensors, { lat: 34.2711, lon: 135.3952 }, 50).map((s) => s.id)).toEqual(['kinokawa-01']);
  });
});

describe('messages stay within LINE’s limits', () => {
  it('quick replies ≤ 13 with labels ≤ 20 characters, even for many long names', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...sensors[0]!, id: `s-${i}`, name: `とても長い名前のアンダーパス第${i}号地点の東側`, status: undefined }));
    const m = buildSearchResult('ja', 'アンダーパス', many, {});
    expect(m.quickReply?.items.length).toBe(LINE_LIMITS.quickReplyMax);
    for (const i of m.quickReply?.items ?? []) expect([...(i.action as { label: string }).label].length).toBeLessThanOrEqual(20);
    expect(m.text).toContain('ほか27件');
    const w = buildWelcome('ja', { areas: Array.from({ length: 30 }, (_, i) => `地区${i}`) });
    expect(w.quickReply?.items.length).toBe(13);
  });

  it('a push is the notice in the resident’s language with how to stop', () => {
    const text = { ja: { title: '【危険】打田駅前アンダーパス 32 cm', body: '本文' }, en: { title: '[DANGER] Uchita 32 cm', body: 'body' } };
    expect(buildAlertPush('ja', { text }).text).toBe('【危険】打田駅前アンダーパス 32 cm\n本文\n（停止：「解除 名前」）');
    expect(buildAlertPush('en', { text }).text).toMatch(/^\[DANGER\] Uchita 32 cm\nbody\n/);
  });
});

describe('trend and time to the next level', () => {
  const t = { caution: 10, warning: 20, danger: 30 };
  const at = (min: number, levelCm: number) => ({ observedAt: min * 60_000, levelCm });
  // Issue 12: pushes use the core trend (services/core/trend.ts, tested in trend.test.ts), the one the map shows.
  it('rising: cm a minute from the core trend, and minutes to the next threshold when the core gives a time', () => {
    const trend = computeTrend([at(0, 0), at(5, 14), at(10, 22)], { thresholds: t, intervalS: 300 });
    expect(toLevelTrend(trend!, t)).toEqual({ cmPerMin: 2.2, direction: 'rising', next: { level: 'danger', cm: 30, minutes: 4 } });
  });
  it('steady or falling: no time to a level; fewer than 3 readings: unknown', () => {
    expect(toLevelTrend(computeTrend([at(0, 22), at(5, 22.1), at(10, 22.2)], { thresholds: t, intervalS: 300 })!, t)).toEqual({ cmPerMin: 0, direction: 'steady' });
    expect(toLevelTrend(computeTrend([at(0, 30), at(5, 25), at(10, 20)], { thresholds: t, intervalS: 300 })!, t)).toEqual({ cmPerMin: -1, direction: 'falling' });
    expect(computeTrend([at(0, 30), at(10, 20)], { thresholds: t, intervalS: 300 })).toBeUndefined();
  });
  it('shown in the push in the resident’s language, not on the all clear', () => {
    const text = { ja: { title: 'T', body: 'B' }, en: { title: 'T', body: 'B' } };
    const trend = { cmPerMin: 2.2, direction: 'rising' as const, next: { level: 'danger' as const, cm: 30, minutes: 4 } };
    expect(buildAlertPush('ja', { event: 'escalated', text }, trend).text).toBe('T\nB\n傾向：上昇中（毎分 2.2 cm、危険（30 cm）まで約4分）\n（停止：「解除 名前」）');
    expect(buildAlertPush('en', { event: 'raised', text }, trend).text).toContain('Trend: rising (2.2 cm/min; Danger (30 cm) in about 4 min)');
    expect(buildAlertPush('ja', { event: 'resolved', text }, trend).text).not.toContain('傾向');
    // Issue 12: a river gauge in metres an hour and MLIT's names.
    const river = toLevelTrend(computeTrend([at(0, 363.33), at(5, 366.67), at(10, 370)], { thresholds: { caution: 250, warning: 330, danger: 380 }, intervalS: 300 })!, { caution: 250, warning: 330, danger: 380 }, 'river');
    expect(buildAlertPush('ja', { event: 'raised', text }, river).text).toContain('傾向：上昇中（毎時 0.40 m、氾濫危険水位まで約15分）');
    expect(buildAlertPush('en', { event: 'raised', text }, river).text).toContain('Trend: rising (0.40 m/h; Flood danger level in about 15 min)');
  });
});

describe('a river gauge is named by its MLIT stage, a road by its level (issue 12)', () => {
  const river = { id: 'kinokawa-r1', name: '紀の川 船戸', nameEn: 'Kinokawa Funato', lat: 34.27, lon: 135.4, state: 'active' as const, site: 'river' as const };
  const road = { ...sensors[0]!, site: 'road' as const };

  it('in search results, subscriptions and the list', () => {
    expect(buildSearchResult('ja', '船戸', [{ ...river, status: 'danger' }], {}).text).toContain('紀の川 船戸（危険（氾濫危険水位））');
    expect(buildSearchResult('en', 'Funato', [{ ...river, status: 'warning' }], {}).text).toContain('Kinokawa Funato (Warning (evacuation decision level))');
    expect(buildSearchResult('ja', '船戸', [{ ...river, status: 'normal' }], {}).text).toContain('（平常）');
    expect(buildSubscribed('ja', river, 'caution', false).text).toContain('「注意（氾濫注意水位）」以上');
    expect(buildList('ja', [{ sensor: river, sensorId: river.id, minLevel: 'warning' }]).text).toContain('警戒（避難判断水位）以上');
    // A road keeps its plain words, and no reply from a reading says 通行止め.
    const roadTexts = [buildSearchResult('ja', '打田', [{ ...road, status: 'danger' }], {}).text, buildSubscribed('ja', road, 'danger', false).text];
    expect(roadTexts[0]).toContain('（危険）');
    expect(roadTexts[1]).toContain('「危険」以上');
    expect([...roadTexts, buildSubscribed('ja', river, 'danger', false).text].join()).not.toMatch(/通行止め/);
  });
});
