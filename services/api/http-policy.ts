import type { Context, MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../auth/middleware.ts';
import { readSessionCookie } from '../auth/request-guard.ts';
import { clientAddress, isHttps, requestOrigin } from './client-info.ts';
import { errorBody } from './errors.ts';

/**
 * The app-wide HTTP policy (issue 16): security headers, CSRF protection and
 * the audit of writes, installed by the composition root (services/app.ts) in
 * front of every route module, so no route's protection depends on which
 * feature modules are mounted. Order: headers (they wrap the response), CSRF
 * (refuses before any route runs), then the audit of what a route did.
 *
 * @example
 * createApi({ …, middleware: [...createHttpPolicy({ trustProxy, tileUrl, auditWrites: audit.auditWrites })] })
 */
export function createHttpPolicy(options: SecurityHeaderOptions & {
  /** The audit log's middleware factory (services/audit/audit-log.ts), given how to read the client address. */
  auditWrites?: (address: (c: Context<AuthEnv>) => string) => MiddlewareHandler<AuthEnv>;
}): MiddlewareHandler<AuthEnv>[] {
  const { auditWrites, ...headers } = options;
  return [
    securityHeaders(headers),
    csrfGuard({ trustProxy: options.trustProxy }),
    ...(auditWrites ? [auditWrites((c) => clientAddress(c, options.trustProxy))] : []),
  ];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface RequestGuardOptions {
  trustProxy: boolean;
}

/**
 * CSRF protection for every state-changing request (issue 5), whoever owns
 * the route (it runs before all route modules):
 *
 * 1. An `Origin` header that is not our own origin → 403. Browsers send
 *    Origin on every cross-origin request and on every same-origin non-GET
 *    (Fetch Standard, "append a request `Origin` header").
 * 2. `Sec-Fetch-Site` other than `same-origin` / `none` → 403 (Fetch Metadata,
 *    the OWASP CSRF Cheat Sheet's defence in depth).
 * 3. A request carrying a session cookie but neither header → 403: a cookie
 *    means a browser, and every current browser sends one of them. Scripts
 *    using `Authorization: Bearer` send no cookie and need neither.
 * 4. A body must be `application/json` (→ 415 otherwise): an HTML form cannot
 *    send JSON, and a cross-origin fetch with JSON needs a CORS preflight,
 *    which this server never grants.
 */
export function csrfGuard(options: RequestGuardOptions): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header('Origin');
    const site = c.req.header('Sec-Fetch-Site');
    if (origin !== undefined && origin.toLowerCase() !== requestOrigin(c, options.trustProxy)) {
      return c.json(errorBody('cross_origin', 'cross-origin request refused'), 403);
    }
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return c.json(errorBody('cross_origin', 'cross-site request refused'), 403);
    }
    if (origin === undefined && site === undefined && readSessionCookie(c, options.trustProxy) !== undefined) {
      return c.json(errorBody('cross_origin', 'a signed-in browser request must carry Origin'), 403);
    }
    const length = c.req.header('Content-Length');
    const hasBody = (length !== undefined && length !== '0') || c.req.header('Transfer-Encoding') !== undefined;
    const type = c.req.header('Content-Type')?.split(';')[0]?.trim().toLowerCase();
    if ((type !== undefined && type !== 'application/json') || (hasBody && type === undefined)) {
      return c.json(errorBody('unsupported_media_type', 'request bodies must be application/json'), 415);
    }
    return next();
  };
}

export interface SecurityHeaderOptions {
  trustProxy: boolean;
  /** MAP_TILE_URL: its host is allowed as an image source. */
  tileUrl: string;
  /** EMBED_ORIGINS (issue 12): who may frame /embed; every other page may not be framed at all. */
  embedOrigins?: readonly string[];
}

/** The embeddable view (issue 12): the only page another site may frame. */
export function isEmbedPath(path: string): boolean {
  return path === '/embed' || path.startsWith('/embed/');
}

/** `https://{s}.tile.example/{z}/{x}/{y}.png` → `https://*.tile.example` (CSP host-source, CSP3 §2.3.2). */
export function tileSource(tileUrl: string): string | undefined {
  const m = /^(https?):\/\/([^/]+)/i.exec(tileUrl);
  if (!m) return undefined;
  const host = (m[2] as string).replace(/\{s\}/g, '*').replace(/\{[^}]*\}/g, '*');
  return `${(m[1] as string).toLowerCase()}://${host}`;
}

/**
 * Security headers on every HTML response (and nosniff on everything):
 * scripts only from this origin (no inline script), images from here, data:
 * (Leaflet's icons) and the tile host; framing forbidden; HSTS on HTTPS.
 * style-src allows 'unsafe-inline' because Leaflet positions tiles and
 * markers with style attributes; scripts stay strict, which is what stops XSS.
 */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler<AuthEnv> {
  const tiles = tileSource(options.tileUrl);
  const common = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${tiles ? ' ' + tiles : ''}`,
    "connect-src 'self'",
    "font-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ];
  const csp = [...common, "frame-ancestors 'none'"].join('; ');
  const embedCsp = [...common, `frame-ancestors ${options.embedOrigins?.length ? options.embedOrigins.join(' ') : "'none'"}`].join('; ');
  return async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    if (!c.res.headers.get('Content-Type')?.startsWith('text/html')) return;
    // X-Frame-Options cannot list origins (RFC 7034): /embed relies on frame-ancestors alone, which wins where both exist (CSP3 §6.4.2).
    if (isEmbedPath(c.req.path)) c.res.headers.set('Content-Security-Policy', embedCsp);
    else {
      c.res.headers.set('Content-Security-Policy', csp);
      c.res.headers.set('X-Frame-Options', 'DENY');
    }
    c.res.headers.set('Referrer-Policy', 'same-origin');
    c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    // RFC 6797: only over HTTPS; one year is the HSTS preload list's minimum.
    if (isHttps(c, options.trustProxy)) c.res.headers.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  };
}
