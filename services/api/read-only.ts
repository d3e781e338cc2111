import type { MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../auth/middleware.ts';
import { errorBody } from './errors.ts';

/**
 * A web process (KANSUI_ROLE=web, issue 15) serves reads only: every method
 * but GET and HEAD is 405, naming where writes go. nginx sends them to the
 * core (deploy/nginx); this answers whoever reaches a web process directly.
 */
export function refuseWrites(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    c.header('Allow', 'GET, HEAD');
    return c.json(errorBody('method_not_allowed', `${method} is not served by a web process (KANSUI_ROLE=web): writes go to the core`), 405);
  };
}

/**
 * The core (KANSUI_ROLE=core, issue 15) tells the web processes after every
 * write it answered with success, so they re-read what they keep in memory
 * (registry, closures, recipients) at once instead of at their next sweep.
 */
export function announceWrites(onWrite: (path: string) => void): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    await next();
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && c.res.status < 400) onWrite(c.req.path);
  };
}
