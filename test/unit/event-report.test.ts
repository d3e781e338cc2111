import { describe, expect, it } from 'vitest';
import { buildEventReport, eventReportCsv, timeAbove } from '../../services/core/event-report.ts';

const MIN = 60_000;
const road = { caution: 10, warning: 20, danger: 30 };

describe('time above each level (pure)', () => {
  it('a reading holds until the next one', () => {
    const r = [0, 12, 25, 31, 5].map((levelCm, i) => ({ observedAt: i * MIN, levelCm }));
    expect(timeAbove(r, road, 60, 0, 10 * MIN)).toEqual({ caution: 3 * MIN, warning: 2 * MIN, danger: 1 * MIN });
  });
  it('…but no longer than the offline limit (3 × interval): a silent sensor’s level is unknown', () => {
    const r = [{ observedAt: 0, levelCm: 35 }, { observedAt: 60 * MIN, levelCm: 35 }];
    expect(timeAbove(r, road, 60, 0, 61 * MIN)).toEqual({ caution: 4 * MIN, warning: 4 * MIN, danger: 4 * MIN });
  });
  it('a reading from before the period covers its start; the period cuts both ends', () => {
    const r = [{ observedAt: -2 * MIN, levelCm: 22 }, { observedAt: 1 * MIN, levelCm: 0 }];
    expect(timeAbove(r, road, 600, 0, 10 * MIN)).toEqual({ caution: 1 * MIN, warning: 1 * MIN, danger: 0 });
  });
  it('report: the first time the peak was reached; alerts raised in the period; CSV quotes names with commas', () => {
    const rep = buildEventReport({
      from: 0,
      to: 10 * MIN,
      sensors: [{ id: 's', name: '打田, 東', thresholds: road, intervalS: 60, readings: [{ observedAt: MIN, levelCm: 31 }, { observedAt: 2 * MIN, levelCm: 31 }, { observedAt: 3 * MIN, levelCm: 4 }] }],
      alerts: [
        { id: 'a', sensorId: 's', kind: 'flood', raisedAt: MIN, acknowledgedAt: 4 * MIN } as never,
        { id: 'b', sensorId: 's', kind: 'flood', raisedAt: 20 * MIN, acknowledgedAt: undefined } as never,
        { id: 'c', sensorId: 's', kind: 'offline', raisedAt: 2 * MIN, acknowledgedAt: undefined } as never,
      ],
      closures: [],
    });
    expect(rep.sensors[0]).toMatchObject({ peakCm: 31, peakAt: MIN, alertsRaised: 1, alertsAcknowledged: 1, ackDelaysMs: [3 * MIN] });
    expect(rep.totals).toMatchObject({ medianAckMs: 3 * MIN, maxAckMs: 3 * MIN });
    const csv = eventReportCsv(rep, (ms) => String(ms));
    expect(csv.split('\r\n')[1]).toBe('s,"打田, 東",3,31,60000,2.0,2.0,2.0,1,1,3.0,');
  });
});
