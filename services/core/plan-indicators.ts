/**
 * The city's action-plan indicators (issue 13, "For the plan's targets"):
 * residents who know and use the service, counted without cookies and
 * without storing addresses — map views per day, and subscribers per
 * channel as of each day.
 */
export const PLAN_METRICS = ['map_views', 'subscribers_line', 'subscribers_webpush'] as const;
export type PlanMetric = (typeof PLAN_METRICS)[number];

/** Port: one number per (day, metric). Adapters: SQLite (services/storage/sqlite-plan-counters.ts), memory (tests). */
export interface PlanCounterRepository {
  /** Add `n` to a counter (map views). */
  add(day: string, metric: PlanMetric, n: number): void;
  /** Set a level (subscribers as of the day: the latest value wins). */
  set(day: string, metric: PlanMetric, value: number): void;
  /** Every row with `from <= day <= to` (YYYY-MM-DD), by day. */
  range(from: string, to: string): { day: string; metric: PlanMetric; value: number }[];
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** `2026-07-01`: the calendar day in `timeZone` (the city's day, not UTC's). */
export function dayOf(ms: number, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) dayFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(ms);
}

export interface PlanRow {
  period: string;
  map_views: number;
  subscribers_line: number | null;
  subscribers_webpush: number | null;
}

/**
 * Rows per day or per month: views are summed; subscribers are the level on
 * the period's last day that has one (a month's subscribers are its end
 * count, not the sum of its days).
 */
export function summarisePlan(rows: readonly { day: string; metric: PlanMetric; value: number }[], by: 'day' | 'month'): PlanRow[] {
  const out = new Map<string, PlanRow & { lastDay: Record<string, string> }>();
  for (const r of [...rows].sort((a, b) => a.day.localeCompare(b.day))) {
    const period = by === 'day' ? r.day : r.day.slice(0, 7);
    let row = out.get(period);
    if (!row) out.set(period, (row = { period, map_views: 0, subscribers_line: null, subscribers_webpush: null, lastDay: {} }));
    if (r.metric === 'map_views') row.map_views += r.value;
    else {
      row[r.metric] = r.value;
      row.lastDay[r.metric] = r.day;
    }
  }
  return [...out.values()].sort((a, b) => a.period.localeCompare(b.period)).map(({ lastDay: _l, ...row }) => row);
}

/** CSV (RFC 4180, CRLF, BOM for Excel) of the summarised rows. */
export function planCsv(rows: readonly PlanRow[], by: 'day' | 'month'): string {
  const head = [by === 'day' ? '日付/day' : '月/month', '地図の閲覧数/map_views', 'LINE登録者/subscribers_line', 'Web Push登録数/subscribers_webpush'];
  const lines = rows.map((r) => [r.period, r.map_views, r.subscribers_line ?? '', r.subscribers_webpush ?? ''].join(','));
  return '\uFEFF' + [head.join(','), ...lines].join('\r\n') + '\r\n';
}
