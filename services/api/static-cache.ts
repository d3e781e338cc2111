import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import { CACHE_POLICY } from './cache-policy.ts';

/** A year: the longest max-age caches honour in practice (RFC 9111 §5.2.2.1 has no upper bound; browsers cap near this). */
const IMMUTABLE = CACHE_POLICY.immutable;
/** Browsers revalidate every time; shared caches (CDN, nginx) keep a copy briefly (issue 15). */
const REVALIDATE = CACHE_POLICY.staticFiles;

function statFile(path: string): Stats | undefined {
  try {
    const s = statSync(path);
    return s.isDirectory() ? statSync(join(path, 'index.html')) : s;
  } catch {
    return undefined;
  }
}

/**
 * Caching headers for files served from `root`, placed before `serveStatic`.
 *
 * - `immutable: true` (files under a versioned URL such as
 *   `/vendor/leaflet-1.9.4/`): cached for a year, never revalidated.
 * - otherwise (HTML, the page's own JS and CSS, which change on deploy without
 *   a new URL): `max-age=0` and a weak ETag from size and mtime, so the browser
 *   revalidates every time and gets a tiny 304 when nothing changed; a shared
 *   cache may keep it for `s-maxage` (services/api/cache-policy.ts).
 */
export function cacheStatic(options: { root: string; immutable?: boolean; rewriteRequestPath?: (path: string) => string }): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    const rel = options.rewriteRequestPath ? options.rewriteRequestPath(c.req.path) : c.req.path;
    // serveStatic rejects '..' segments itself; mirror that so no stat escapes the root.
    if (/(?:^|[/\\])\.{1,2}(?:$|[/\\])/.test(rel)) return next();
    const stats = statFile(join(options.root, rel));
    if (!stats) return next();
    if (options.immutable) {
      await next();
      if (c.res.status === 200) c.res.headers.set('Cache-Control', IMMUTABLE);
      return;
    }
    const etag = `W/"${stats.size.toString(36)}-${Math.floor(stats.mtimeMs).toString(36)}"`;
    const inm = c.req.header('If-None-Match');
    if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === etag.slice(2))) {
      return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': REVALIDATE } });
    }
    await next();
    if (c.res.status === 200) {
      c.res.headers.set('ETag', etag);
      c.res.headers.set('Cache-Control', REVALIDATE);
    }
  };
}
