import { describe, expect, it } from 'vitest';
import type { Alert } from '../../services/core/alerts/alert.ts';
import { composeNotice } from '../../services/core/alerts/channel.ts';
import { computeTrend } from '../../services/core/trend.ts';

// Issue 12: alert texts (webhook, e-mail, Web Push; CAP and Atom use the same notice) are worded for
// the sensor's site, never say 通行止め, and carry the core trend with the time to the next level.
const T0 = Date.UTC(2026, 6, 1, 7, 0, 0);
const MIN = 60_000;
const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'al_1', sensorId: 's-1', kind: 'flood', severity: 'warning', peakSeverity: 'warning', cause: 'level', state: 'raised', rising: false,
  levelCm: 22, observedAt: T0, batteryV: undefined, raisedAt: T0, updatedAt: T0, acknowledgedAt: undefined, acknowledgedBy: undefined,
  ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined, ...over,
});
const road = { id: 's-1', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.27, lon: 135.39, thresholds: { caution: 10, warning: 20, danger: 30 } };
const river = { id: 'r-1', name: '紀の川 船戸', nameEn: 'Kinokawa at Funato', lat: 34.27, lon: 135.36, site: 'river' as const, thresholds: { caution: 250, warning: 330, danger: 380 } };
const at = (i: number, levelCm: number, stepMin: number) => ({ observedAt: T0 - (2 - i) * stepMin * MIN, levelCm });

describe('alert notices by site (issue 12)', () => {
  it('a road sensor: cm, 注意/警戒/危険, the trend and 危険（30 cm）まで約8分', () => {
    const trend = computeTrend([at(0, 20, 1), at(1, 21, 1), at(2, 22, 1)], { thresholds: road.thresholds, intervalS: 60 });
    const n = composeNotice({ event: 'raised', alert: alert(), sensor: road, timeZone: 'Asia/Tokyo', trend });
    expect(n.text.ja.title).toBe('【警戒】打田駅前アンダーパス 22 cm');
    expect(n.text.ja.body).toContain('傾向：上昇中（毎時 60 cm）、危険（30 cm）まで約8分');
    expect(n.text.en.body).toContain('Trend: rising (60 cm/h); Danger (30 cm) in about 8 min');
    expect(JSON.stringify(n.text)).not.toContain('通行止め');
  });

  it('a river gauge: metres, MLIT stage names, 増水 not 冠水, 氾濫危険水位まで約15分', () => {
    const trend = computeTrend([at(0, 363.33, 5), at(1, 366.67, 5), at(2, 370, 5)], { thresholds: river.thresholds, intervalS: 300 });
    const n = composeNotice({ event: 'raised', alert: alert({ sensorId: 'r-1', levelCm: 370 }), sensor: river, timeZone: 'Asia/Tokyo', trend });
    expect(n.text.ja.title).toBe('【避難判断水位】紀の川 船戸 3.70 m');
    expect(n.text.ja.body).toContain('紀の川 船戸 の水位が避難判断水位に達しました：3.70 m。');
    expect(n.text.ja.body).toContain('傾向：上昇中（毎時 0.40 m）、氾濫危険水位まで約15分');
    expect(n.text.en.body).toContain('Trend: rising (0.40 m/h); Flood danger level in about 15 min');
    const over = composeNotice({ event: 'resolved', alert: alert({ sensorId: 'r-1', state: 'resolved' }), sensor: river, timeZone: 'Asia/Tokyo', trend });
    expect(over.text.ja.title).toBe('【解除】紀の川 船戸（増水）');
    expect(over.text.ja.body).not.toContain('傾向');
    expect(JSON.stringify([n.text, over.text])).not.toMatch(/冠水|通行止め/);
  });

  it('a river gauge at or above its 計画高水位 (where set) says so; below it, or without one, nothing is added', () => {
    const hwlRiver = { ...river, thresholds: { ...river.thresholds, standby: 200, planHighWater: 860 } };
    const danger = (levelCm: number) => alert({ sensorId: 'r-1', levelCm, severity: 'danger', peakSeverity: 'danger' });
    const above = composeNotice({ event: 'escalated', alert: danger(870), sensor: hwlRiver, timeZone: 'Asia/Tokyo' });
    expect(above.text.ja.title).toBe('【氾濫危険水位】紀の川 船戸 8.70 m');
    expect(above.text.ja.body).toContain('計画高水位（8.60 m）以上です。');
    expect(above.text.en.body).toContain('design high-water level (8.60 m)');
    expect(composeNotice({ event: 'raised', alert: danger(850), sensor: hwlRiver, timeZone: 'Asia/Tokyo' }).text.ja.body).not.toContain('計画高水位');
    expect(composeNotice({ event: 'raised', alert: danger(870), sensor: river, timeZone: 'Asia/Tokyo' }).text.ja.body).not.toContain('計画高水位');
    // Rising above 氾濫危険水位: the time to 計画高水位 (40 cm/h from 8.20 m, 40 cm to go: 1 hour).
    const trend = computeTrend([at(0, 813.33, 5), at(1, 816.67, 5), at(2, 820, 5)], { thresholds: hwlRiver.thresholds, intervalS: 300 });
    const rising = composeNotice({ event: 'raised', alert: danger(820), sensor: hwlRiver, timeZone: 'Asia/Tokyo', trend });
    expect(rising.text.ja.body).toContain('傾向：上昇中（毎時 0.40 m）、計画高水位まで約1時間');
    expect(rising.text.en.body).toContain('Design high-water level in about 1 h');
  });

  it('a negative stage is shown with a real minus sign', () => {
    const n = composeNotice({ event: 'raised', alert: alert({ sensorId: 'r-1', levelCm: -35, severity: 'caution' }), sensor: { ...river, thresholds: { caution: -50, warning: 330, danger: 380 } }, timeZone: 'Asia/Tokyo' });
    expect(n.text.ja.title).toBe('【氾濫注意水位】紀の川 船戸 −0.35 m');
  });
});

describe('CAP and Atom for a river gauge (issue 12)', () => {
  it('river water level, metres, river instructions; no road words', async () => {
    const { renderActiveCap, renderAtom } = await import('../../services/alerting/feeds.ts');
    const sensor = { ...river, kind: 'level' as const, intervalS: 300, state: 'active' as const, createdAt: T0, updatedAt: T0 };
    const ctx = { baseUrl: 'https://kansui.city.example', timeZone: 'Asia/Tokyo', now: T0, sensorOf: () => sensor, settingsOf: () => ({ preset: 'road_underpass' as const }) };
    const a = alert({ sensorId: 'r-1', levelCm: 385, severity: 'danger', peakSeverity: 'danger' });
    const cap = renderActiveCap([a], ctx);
    expect(cap).toContain('<event>河川水位</event>');
    expect(cap).toContain('<event>River water level</event>');
    expect(cap).toContain('【氾濫危険水位】紀の川 船戸 3.85 m');
    expect(cap).toContain('川に近づかないでください。');
    expect(cap).not.toContain('<category>Transport</category>');
    const atom = renderAtom([a], ctx);
    expect(atom).toContain('3.85 m');
    // The feed's own title (all sensors) aside, nothing about this gauge speaks of a flooded or closed road.
    expect(cap + atom).not.toMatch(/冠水|通行止め/);
  });
});
