import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { isHttps } from '../api/client-info.ts';

/** Session cookie: `__Host-` prefixed (requires Secure, Path=/, no Domain; RFC 6265bis §4.1.3.2) when on HTTPS. */
export function sessionCookieName(https: boolean): string {
  return https ? '__Host-kansui_session' : 'kansui_session';
}

export function readSessionCookie(c: Context, trustProxy: boolean): string | undefined {
  return getCookie(c, sessionCookieName(isHttps(c, trustProxy)));
}
