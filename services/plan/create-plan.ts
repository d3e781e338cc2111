import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { createError } from '../core/errors.ts';
import { dayOf, planCsv, summarisePlan, type PlanCounterRepository } from '../core/plan-indicators.ts';
import { validate } from '../core/validate.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';

export interface PlanDeps {
  repo: PlanCounterRepository;
  /** Subscribers per channel now (LINE residents when LINE is on; residents' Web Push subscriptions). */
  subscribers: () => { line: number | undefined; webpush: number };
  timeZone: string;
  now?: () => number;
  /** How often counts are written (ms): views are summed in memory meanwhile. */
  flushMs?: number;
  onError?: (err: Error) => void;
}

/** A calendar day (zod's ISO date: month 01–12, a day the month has), so 0000-00-00 is a 400 naming the parameter (issue 10 #12). */
const Day = z.iso.date({ error: 'expected a calendar date YYYY-MM-DD' });
const Query = z.object({ by: z.enum(['day', 'month']).default('day'), from: Day.optional(), to: Day.optional(), format: z.enum(['json', 'csv']).default('json') }).strict();

/**
 * Plan indicators (issue 13): a map view is one opening of the live stream
 * by someone not signed in, without `Last-Event-ID` (a reconnect carries
 * it: the server sends every new client an id first; docs/contract.md). The
 * public map opens the stream once per view, and the stream is the one part
 * of the page no CDN or proxy caches (services/api/cache-policy.ts), so views
 * are counted even when the page and the sensors come from a shared cache.
 * Nothing identifies the viewer: no cookie is set or read, no address is
 * kept, only a count per day. Views are summed in memory and written every
 * `flushMs` (10 s: a storm's thousands of views a minute cost six writes),
 * so a crash loses at most that much of the count.
 */
export function createPlanIndicators(deps: PlanDeps) {
  const now = deps.now ?? Date.now;
  let pending = new Map<string, number>();

  function flush(): void {
    try {
      const views = pending;
      pending = new Map();
      for (const [day, n] of views) deps.repo.add(day, 'map_views', n);
      const today = dayOf(now(), deps.timeZone);
      const s = deps.subscribers();
      if (s.line !== undefined) deps.repo.set(today, 'subscribers_line', s.line);
      deps.repo.set(today, 'subscribers_webpush', s.webpush);
    } catch (err) {
      deps.onError?.(err as Error);
    }
  }
  const timer = setInterval(flush, deps.flushMs ?? 10_000);
  timer.unref();

  /** App-wide middleware (after authentication): counts new public connections to the live stream. */
  const countViews: MiddlewareHandler<AuthEnv> = async (c, next) => {
    if (c.req.path === '/api/events' && c.req.method === 'GET' && !c.get('principal') && c.req.header('Last-Event-ID') === undefined && c.req.query('lastEventId') === undefined) {
      const day = dayOf(now(), deps.timeZone);
      pending.set(day, (pending.get(day) ?? 0) + 1);
    }
    await next();
  };

  return {
    flush,
    countViews,
    routes(app: Hono<AuthEnv>): void {
      app.get('/api/plan/indicators', requireRole('staff', 'technician'), (c) => {
        const q = validate(Query, c.req.query(), 'query');
        c.header('Cache-Control', 'private, no-store'); // staff data: never kept by a shared cache in front (issue 15)
        flush();
        const to = q.to ?? dayOf(now(), deps.timeZone);
        const from = q.from ?? dayOf(now() - 365 * 24 * 3600_000, deps.timeZone);
        if (from > to) throw createError('invalid_input', 'from: must not be after to', { param: 'from' });
        const rows = summarisePlan(deps.repo.range(from, to), q.by);
        if (q.format === 'csv') {
          c.header('Content-Type', 'text/csv; charset=utf-8');
          c.header('Content-Disposition', `attachment; filename="kansui-plan-indicators-${q.by}.csv"`);
          return c.body(planCsv(rows, q.by));
        }
        const s = deps.subscribers();
        return c.json({ by: q.by, from, to, now: { subscribers_line: s.line ?? null, subscribers_webpush: s.webpush }, rows });
      });
    },
    close(): void {
      clearInterval(timer);
      flush();
    },
  };
}
export type PlanIndicators = ReturnType<typeof createPlanIndicators>;
