import type { Alert } from './alerts/alert.ts';
import { ALERT_SEVERITIES, type AlertSeverity } from './alerts/policy.ts';
import type { Closure } from './closure.ts';
import { LIMITS } from './limits.ts';
import type { Thresholds } from './sensor.ts';

/** One sensor's part of an event report. */
export interface SensorReport {
  sensorId: string;
  name: string;
  readings: number;
  /** Highest reading in the period and when (the first time it was reached). */
  peakCm: number | undefined;
  peakAt: number | undefined;
  /** Milliseconds at or above each level (see `timeAbove`). */
  msAbove: Record<AlertSeverity, number>;
  alertsRaised: number;
  alertsAcknowledged: number;
  /** Time from raised to acknowledged, per acknowledged alert, ms. */
  ackDelaysMs: number[];
  closures: Closure[];
}

export interface EventReport {
  from: number;
  to: number;
  sensors: SensorReport[];
  /** Closures of drawn road segments (not one sensor's road). */
  segmentClosures: Closure[];
  totals: { alertsRaised: number; alertsAcknowledged: number; medianAckMs: number | undefined; maxAckMs: number | undefined; closures: number };
}

/**
 * Time at or above each level in [from, to], from readings (oldest first).
 * A reading's level is taken to hold until the next reading, but no longer
 * than the offline limit (3 × the reporting interval, docs/contract.md):
 * past that the sensor is silent and its level unknown, so no time is
 * counted. The first reading before `from` (if given) covers the start.
 */
export function timeAbove(
  readings: readonly { observedAt: number; levelCm: number }[],
  thresholds: Thresholds,
  intervalS: number,
  from: number,
  to: number,
): Record<AlertSeverity, number> {
  const out: Record<AlertSeverity, number> = { caution: 0, warning: 0, danger: 0 };
  const holdMs = LIMITS.offlineAfterIntervals * intervalS * 1000;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i] as { observedAt: number; levelCm: number };
    const next = readings[i + 1]?.observedAt ?? Infinity;
    const start = Math.max(r.observedAt, from);
    const end = Math.min(next, r.observedAt + holdMs, to);
    if (end <= start) continue;
    for (const level of ALERT_SEVERITIES) if (r.levelCm >= thresholds[level]) out[level] += end - start;
  }
  return out;
}

function median(xs: readonly number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * The report a city files after an event (issue 13): per sensor the peak
 * and when, time above each level, alerts raised and acknowledged and how
 * long acknowledging took, closures; and totals. Pure: the caller reads
 * readings, alerts and closures for the period.
 */
export function buildEventReport(input: {
  from: number;
  to: number;
  sensors: readonly { id: string; name: string; thresholds: Thresholds; intervalS: number; readings: readonly { observedAt: number; levelCm: number }[] }[];
  alerts: readonly Alert[];
  closures: readonly Closure[];
}): EventReport {
  const { from, to } = input;
  const reports: SensorReport[] = input.sensors.map((s) => {
    let peak: { observedAt: number; levelCm: number } | undefined;
    let count = 0;
    for (const r of s.readings) {
      if (r.observedAt < from || r.observedAt > to) continue;
      count++;
      if (!peak || r.levelCm > peak.levelCm) peak = r;
    }
    const alerts = input.alerts.filter((a) => a.sensorId === s.id && a.kind === 'flood' && a.raisedAt >= from && a.raisedAt <= to);
    const acked = alerts.filter((a) => a.acknowledgedAt !== undefined);
    return {
      sensorId: s.id,
      name: s.name,
      readings: count,
      peakCm: peak?.levelCm,
      peakAt: peak?.observedAt,
      msAbove: timeAbove(s.readings, s.thresholds, s.intervalS, from, to),
      alertsRaised: alerts.length,
      alertsAcknowledged: acked.length,
      ackDelaysMs: acked.map((a) => (a.acknowledgedAt as number) - a.raisedAt),
      closures: input.closures.filter((c) => c.sensorId === s.id),
    };
  });
  const delays = reports.flatMap((r) => r.ackDelaysMs);
  return {
    from,
    to,
    sensors: reports,
    segmentClosures: input.closures.filter((c) => c.segment !== undefined),
    totals: {
      alertsRaised: reports.reduce((n, r) => n + r.alertsRaised, 0),
      alertsAcknowledged: reports.reduce((n, r) => n + r.alertsAcknowledged, 0),
      medianAckMs: median(delays),
      maxAckMs: delays.length ? Math.max(...delays) : undefined,
      closures: input.closures.length,
    },
  };
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(v: string | number | undefined | null): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The report as CSV (RFC 4180, CRLF), one row per sensor, Japanese headers
 * with the English after a slash, minutes with one decimal; times via `fmt`.
 * A BOM first, so Excel in Japan opens it as UTF-8.
 */
export function eventReportCsv(r: EventReport, fmt: (ms: number) => string): string {
  const min = (ms: number | undefined) => (ms === undefined ? '' : (Math.round(ms / 6000) / 10).toFixed(1));
  const head = [
    'センサーID/sensor_id', '名称/name', '読み取り数/readings', 'ピーク(cm)/peak_cm', 'ピーク時刻/peak_at',
    '注意以上(分)/min_caution', '警戒以上(分)/min_warning', '危険以上(分)/min_danger',
    '警報発生/alerts_raised', '確認済み/alerts_acknowledged', '確認までの時間・中央値(分)/median_min_to_ack', '通行止め/closures',
  ];
  const rows = r.sensors.map((s) => [
    s.sensorId, s.name, s.readings, s.peakCm, s.peakAt === undefined ? '' : fmt(s.peakAt),
    min(s.msAbove.caution), min(s.msAbove.warning), min(s.msAbove.danger),
    s.alertsRaised, s.alertsAcknowledged, min(median(s.ackDelaysMs)),
    s.closures.map((c) => `${fmt(c.since)}〜${c.liftedAt === undefined ? '' : fmt(c.liftedAt)} ${c.reason}`).join(' / '),
  ]);
  // Drawn road segments: one row each, with only the name and the closure.
  for (const c of r.segmentClosures) {
    rows.push(['', c.segment?.name, '', '', '', '', '', '', '', '', '', `${fmt(c.since)}〜${c.liftedAt === undefined ? '' : fmt(c.liftedAt)} ${c.reason}`]);
  }
  return '\uFEFF' + [head, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
