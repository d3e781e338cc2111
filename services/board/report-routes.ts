import type { Hono } from 'hono';
import { z } from 'zod';
import type { Alert } from '../core/alerts/alert.ts';
import type { Closure } from '../core/closure.ts';
import { createError } from '../core/errors.ts';
import { buildEventReport, eventReportCsv } from '../core/event-report.ts';
import { LIMITS } from '../core/limits.ts';
import type { ReadingStore, SensorRegistry } from '../core/ports.ts';
import { formatIso } from '../core/time.ts';
import { TimeParamSchema, validate } from '../core/validate.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';

export interface ReportDeps {
  registry: SensorRegistry;
  store: ReadingStore;
  /** Alerts overlapping a period (the alert store's history). */
  alertsIn: (from: number, to: number) => Alert[];
  closuresIn: (from: number, to: number) => Closure[];
  timeZone: string;
}

/** Longest period one report covers: a month, so one request reads a bounded number of readings. */
const MAX_PERIOD_MS = 31 * 24 * 3600_000;
/** Readings read per sensor at most (31 days at one a minute is 44,640). */
const MAX_ROWS = 200_000;

const ReportQuery = z
  .object({
    from: TimeParamSchema,
    to: TimeParamSchema,
    format: z.enum(['json', 'csv']).default('json'),
    sensor: z.string().max(64).optional(),
  })
  .strict();

/**
 * The event report (issue 13, "after the storm"): `GET /api/reports/event?from=&to=`
 * as JSON or `format=csv`; the console renders it as a printable A4 page.
 * Numbers come from the stored readings, not the alert engine's view.
 */
export function reportRoutes(deps: ReportDeps): (app: Hono<AuthEnv>) => void {
  const fmt = (ms: number) => formatIso(ms, deps.timeZone).replace(/\.\d{3}/, '');
  return (app) => {
    app.get('/api/reports/event', requireRole('staff', 'technician'), async (c) => {
      const q = validate(ReportQuery, c.req.query(), 'query');
      c.header('Cache-Control', 'private, no-store'); // staff data: never kept by a shared cache in front (issue 15)
      if (q.from >= q.to) throw createError('invalid_input', 'from: must be before to', { param: 'from' });
      if (q.to - q.from > MAX_PERIOD_MS) throw createError('invalid_input', 'to: a report covers at most 31 days', { param: 'to' });
      const sensors = deps.registry.list().filter((s) => s.state !== 'retired' && (!q.sensor || s.id === q.sensor));
      const withReadings = await Promise.all(
        sensors.map(async (s) => ({
          id: s.id,
          name: s.name,
          thresholds: s.thresholds,
          intervalS: s.intervalS,
          // From one offline limit before the period, so the level at its start is known.
          readings: await deps.store.range({ sensorId: s.id, from: q.from - LIMITS.offlineAfterIntervals * s.intervalS * 1000, to: q.to, limit: MAX_ROWS }),
        })),
      );
      const report = buildEventReport({ from: q.from, to: q.to, sensors: withReadings, alerts: deps.alertsIn(q.from, q.to), closures: deps.closuresIn(q.from, q.to) });
      if (q.format === 'csv') {
        c.header('Content-Type', 'text/csv; charset=utf-8');
        c.header('Content-Disposition', `attachment; filename="kansui-event-report-${fmt(q.from).slice(0, 10)}.csv"`);
        return c.body(eventReportCsv(report, fmt));
      }
      const min = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms / 6000) / 10);
      return c.json({
        from: fmt(report.from),
        to: fmt(report.to),
        totals: {
          alerts_raised: report.totals.alertsRaised,
          alerts_acknowledged: report.totals.alertsAcknowledged,
          median_minutes_to_ack: min(report.totals.medianAckMs),
          max_minutes_to_ack: min(report.totals.maxAckMs),
          closures: report.totals.closures,
        },
        sensors: report.sensors.map((s) => ({
          sensor_id: s.sensorId,
          name: s.name,
          readings: s.readings,
          peak_cm: s.peakCm ?? null,
          peak_at: s.peakAt === undefined ? null : fmt(s.peakAt),
          minutes_above: { caution: min(s.msAbove.caution), warning: min(s.msAbove.warning), danger: min(s.msAbove.danger) },
          alerts_raised: s.alertsRaised,
          alerts_acknowledged: s.alertsAcknowledged,
          minutes_to_ack: s.ackDelaysMs.map((ms) => min(ms)),
          closures: s.closures.map((cl) => ({ id: cl.id, reason: cl.reason, since: fmt(cl.since), lifted_at: cl.liftedAt === undefined ? null : fmt(cl.liftedAt), by: cl.by })),
        })),
        segment_closures: report.segmentClosures.map((cl) => ({ id: cl.id, name: cl.segment?.name ?? '', reason: cl.reason, since: fmt(cl.since), lifted_at: cl.liftedAt === undefined ? null : fmt(cl.liftedAt), by: cl.by })),
      });
    });
  };
}
