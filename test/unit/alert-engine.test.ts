import { describe, expect, it } from 'vitest';
import { acknowledgeAlert, planFloodAlert, type Alert } from '../../services/core/alerts/alert.ts';
import { composeNotice, wantsNotice } from '../../services/core/alerts/channel.ts';
import { createAlertState, evaluateReading, type SensorAlertState } from '../../services/core/alerts/engine.ts';
import { DEFAULT_ALERT_POLICY, nameDepth, PRESETS } from '../../services/core/alerts/policy.ts';

const road = { caution: 10, warning: 20, danger: 30 };
const MIN = 60_000;
const T0 = Date.UTC(2026, 6, 1, 0, 0, 0);

/** Feed levels one per `stepMin` minutes; returns the effective level after each. */
function run(levels: number[], stepMin = 10, state: SensorAlertState = createAlertState(), policy = DEFAULT_ALERT_POLICY) {
  const out: string[] = [];
  let s = state;
  levels.forEach((levelCm, i) => {
    const e = evaluateReading(s, { observedAt: T0 + i * stepMin * MIN, levelCm }, road, policy);
    s = e.state;
    out.push(e.effective);
  });
  return { levels: out, state: s };
}

describe('hysteresis', () => {
  it('enters a level on reaching it', () => {
    expect(run([0, 9.9, 10, 20, 30]).levels).toEqual(['normal', 'normal', 'caution', 'warning', 'danger']);
  });

  it('water hovering at a threshold holds the level instead of flapping', () => {
    // 10 cm threshold, readings 9–11 cm: never below 10 − 2 = 8 cm, so caution holds throughout.
    const hover = [10, 9, 11, 9.5, 10.2, 8.5, 10, 9, 8.1, 10.4];
    const { levels } = run([0, 1, 2, ...hover].map((v, i) => (i < 3 ? v : v)), 5);
    expect(levels.slice(3).every((l) => l === 'caution')).toBe(true);
  });

  it('leaves only below threshold − dead band held for the hold time', () => {
    // 10-minute steps: 7.9 cm at t, still below at t+10 min → leaves at the second low reading.
    const { levels } = run([0, 5, 12, 7.9, 7.5, 7]);
    expect(levels).toEqual(['normal', 'normal', 'caution', 'caution', 'normal', 'normal']);
  });

  it('a low reading interrupted by a higher one restarts the hold', () => {
    const { levels } = run([0, 5, 12, 7.9, 9, 7.9, 7.9], 10);
    expect(levels).toEqual(['normal', 'normal', 'caution', 'caution', 'caution', 'caution', 'normal']);
  });

  it('drops step by step to the highest level the water stayed at during the hold', () => {
    // From danger, 22 cm supports warning (≥ 20 − 2); after the hold, warning; then below 8 → normal after another hold.
    const { levels } = run([0, 5, 15, 25, 31, 22, 22, 5, 5]);
    expect(levels).toEqual(['normal', 'normal', 'caution', 'warning', 'danger', 'danger', 'warning', 'warning', 'normal']);
  });

  it('ignores out-of-order readings', () => {
    let s = createAlertState();
    s = evaluateReading(s, { observedAt: T0 + 20 * MIN, levelCm: 25 }, road).state;
    const e = evaluateReading(s, { observedAt: T0 + 10 * MIN, levelCm: 0 }, road);
    expect(e.applied).toBe(false);
    expect(e.effective).toBe('warning');
  });
});

describe('rate of rise', () => {
  it('raises caution below the caution threshold when water rises 10 cm within 10 min (default rate)', () => {
    const river = { caution: 100, warning: 150, danger: 200 };
    const feed = (levels: number[], stepMin: number) => {
      let s = createAlertState();
      return levels.map((levelCm, i) => {
        const e = evaluateReading(s, { observedAt: T0 + i * stepMin * MIN, levelCm }, river);
        s = e.state;
        return e.effective;
      });
    };
    expect(feed([50, 53, 56, 59], 5)).toEqual(['normal', 'normal', 'normal', 'normal']); // 6 cm per 10 min
    expect(feed([50, 55, 60], 5)).toEqual(['normal', 'normal', 'caution']); // 10 cm in 10 min
    expect(feed([50, 60.5], 3)).toEqual(['normal', 'caution']); // 10.5 cm in 3 min
  });

  it('judges a sensor reporting faster than the contract over the whole window, with bounded state', () => {
    // 1 reading a second, rising 10.2 cm over 10 min: only the full look-back sees the rate.
    const river = { caution: 100, warning: 150, danger: 200 };
    let s = createAlertState();
    let effective = 'normal';
    for (let i = 0; i <= 600; i++) {
      const e = evaluateReading(s, { observedAt: T0 + i * 1000, levelCm: 50 + (10.2 * i) / 600 }, river);
      s = e.state;
      effective = e.effective;
    }
    expect(effective).toBe('caution');
    expect(s.rising).toBe(true);
    expect(s.recent.length).toBeLessThanOrEqual(61);
  });

  it('10 cm in 10 minutes below caution raises caution with the rising flag, and it clears after the hold', () => {
    const policy = { ...DEFAULT_ALERT_POLICY, riseCm: 5 };
    const r = run([0, 5.5, 6, 6, 6], 10, createAlertState(), policy);
    expect(r.levels).toEqual(['normal', 'caution', 'caution', 'normal', 'normal']);
  });

  it('scales a rise measured over a gap longer than the window', () => {
    // One reading 15 minutes after the last: 0 → 16 cm is 10.7 cm per 10 min.
    const r = run([0, 9.6], 15, createAlertState(), { ...DEFAULT_ALERT_POLICY, riseCm: 6 });
    expect(r.levels[1]).toBe('caution');
    expect(r.state.rising).toBe(true);
  });
});

describe('spike filter', () => {
  it('holds a single implausible jump and discards it when the next reading is back near the baseline', () => {
    let s = createAlertState();
    s = evaluateReading(s, { observedAt: T0, levelCm: 2 }, road).state;
    const jump = evaluateReading(s, { observedAt: T0 + MIN, levelCm: 80 }, road);
    expect(jump.spike).toBe('held');
    expect(jump.effective).toBe('normal');
    const back = evaluateReading(jump.state, { observedAt: T0 + 2 * MIN, levelCm: 3 }, road);
    expect(back.spike).toBe('discarded');
    expect(back.effective).toBe('normal');
    expect(back.state.rising).toBe(false);
  });

  it('raises danger once the next reading confirms the jump', () => {
    let s = createAlertState();
    s = evaluateReading(s, { observedAt: T0, levelCm: 2 }, road).state;
    s = evaluateReading(s, { observedAt: T0 + MIN, levelCm: 80 }, road).state;
    const next = evaluateReading(s, { observedAt: T0 + 2 * MIN, levelCm: 78 }, road);
    expect(next.spike).toBe('confirmed');
    expect(next.effective).toBe('danger');
    expect(next.state.rising).toBe(true);
  });
});

describe('battery', () => {
  it('flags low battery below the limit and clears 0.1 V above it', () => {
    let s = createAlertState();
    const at = (i: number, v: number) => ({ observedAt: T0 + i * MIN, levelCm: 0, batteryV: v });
    s = evaluateReading(s, at(0, 3.5), road).state;
    expect(s.lowBattery).toBe(false);
    s = evaluateReading(s, at(1, 3.25), road).state;
    expect(s.lowBattery).toBe(true);
    s = evaluateReading(s, at(2, 3.35), road).state;
    expect(s.lowBattery).toBe(true);
    s = evaluateReading(s, at(3, 3.6), road).state;
    expect(s.lowBattery).toBe(false);
  });
});

describe('alert planning and lifecycle', () => {
  it('raises once per episode, changes the same alert, resolves at normal', () => {
    expect(planFloodAlert(undefined, 'caution', 'level', false)).toEqual({ type: 'raise', kind: 'flood', severity: 'caution', cause: 'level' });
    const active = { id: 'a1', severity: 'caution' as const, cause: 'level' as const, rising: false };
    expect(planFloodAlert(active, 'caution', 'level', false)).toBeUndefined();
    expect(planFloodAlert(active, 'danger', 'level', false)).toEqual({ type: 'change', alertId: 'a1', severity: 'danger', cause: 'level', rising: false });
    expect(planFloodAlert(active, 'normal', 'level', false)).toEqual({ type: 'resolve', alertId: 'a1', reason: 'level_normal' });
    expect(planFloodAlert(undefined, 'normal', 'level', false)).toBeUndefined();
  });

  const alert: Alert = {
    id: 'a1', sensorId: 's1', kind: 'flood', severity: 'warning', peakSeverity: 'warning', cause: 'level', state: 'raised', rising: false,
    levelCm: 21, observedAt: T0, batteryV: undefined, raisedAt: T0, updatedAt: T0,
    acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined,
  };

  it('acknowledging records who, when and the note, once', () => {
    const r = acknowledgeAlert(alert, 'tanaka', '現地確認中', T0 + MIN);
    expect(r.ok && r.alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'tanaka', ackNote: '現地確認中', acknowledgedAt: T0 + MIN });
    expect(r.ok && acknowledgeAlert(r.alert, 'sato', undefined, T0 + 2 * MIN).ok).toBe(false);
    expect(acknowledgeAlert({ ...alert, state: 'resolved' }, 'x', undefined, T0).ok).toBe(false);
  });

  it('recipients filter by sensor, kind and minimum severity (peak of the episode)', () => {
    const r = { sensors: ['s1'], minSeverity: 'warning' as const, kinds: ['flood' as const] };
    expect(wantsNotice(r, alert)).toBe(true);
    expect(wantsNotice(r, { ...alert, peakSeverity: 'caution' })).toBe(false);
    expect(wantsNotice(r, { ...alert, sensorId: 's2' })).toBe(false);
    expect(wantsNotice({ ...r, sensors: ['*'] }, { ...alert, sensorId: 's2' })).toBe(true);
    expect(wantsNotice(r, { ...alert, kind: 'offline' })).toBe(false);
  });

  it('names river levels after MLIT and composes Japanese and English text', () => {
    const river = { caution: 100, warning: 150, danger: 200 };
    const settings = { preset: 'river_channel' as const, standbyCm: 80 };
    expect(nameDepth(85, river, settings)?.ja).toBe('水防団待機水位');
    expect(nameDepth(120, river, settings)?.ja).toBe('氾濫注意水位');
    expect(nameDepth(160, river, settings)?.ja).toBe('避難判断水位');
    expect(nameDepth(200, river, settings)?.ja).toBe('氾濫危険水位');
    expect(nameDepth(50, river, settings)).toBeUndefined();
    // Issue 12: the gauge's own levels where set: 計画高水位 above 氾濫危険水位, its standby before the settings'.
    const withHwl = { ...river, standby: 60, planHighWater: 300 };
    expect(nameDepth(300, withHwl, settings)?.ja).toBe('計画高水位');
    expect(nameDepth(299, withHwl, settings)?.ja).toBe('氾濫危険水位');
    expect(nameDepth(65, withHwl, settings)?.ja).toBe('水防団待機水位');
    expect(PRESETS.road_underpass.defaults).toEqual(road);
    const n = composeNotice({
      event: 'raised', alert: { ...alert, severity: 'danger', peakSeverity: 'danger', levelCm: 205 },
      sensor: { id: 's1', name: '紀の川 船戸', nameEn: 'Kinokawa Funato', lat: 34.2, lon: 135.3, thresholds: river },
      settings, timeZone: 'Asia/Tokyo',
    });
    expect(n.levelName).toEqual({ ja: '氾濫危険水位', en: 'Flood danger level' });
    expect(n.text.ja.body).toContain('氾濫危険水位');
    expect(n.text.ja.body).toContain('+09:00');
    expect(n.text.en.title).toBe('[DANGER] Kinokawa Funato 205 cm');
  });
});
