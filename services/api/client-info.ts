import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { isIP } from 'node:net';

/**
 * Who a request comes from and where this service is publicly reachable,
 * read the same way by every route (issue 10 #13): rate limits, sign-in
 * throttling, audit, CSRF, cookies and the links in feeds all go through
 * these helpers, so nothing reads `X-Forwarded-*` or builds a link from the
 * request URL on its own.
 *
 * `X-Forwarded-*` is believed only with TRUST_PROXY, which an operator turns
 * on only when every request passes through a proxy that overwrites those
 * headers (docs/operations.md, "Behind a TLS-terminating proxy"); otherwise a
 * client could choose its own address or the host put into links.
 */
export interface ClientInfoOptions {
  /** TRUST_PROXY: a proxy in front of every request sets X-Forwarded-For/-Proto/-Host. */
  trustProxy: boolean;
  /** PUBLIC_URL (older name ALERT_PUBLIC_URL): the address residents use, e.g. `https://kansui.city.example`. */
  publicUrl?: string | undefined;
}

/** The last comma-separated element of a header, trimmed. */
function lastValue(header: string | undefined): string | undefined {
  return header?.split(',').at(-1)?.trim() || undefined;
}

/** The first comma-separated element (a proxy chain's outermost hop for -Proto/-Host). */
function firstValue(header: string | undefined): string | undefined {
  return header?.split(',')[0]?.trim() || undefined;
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) → `192.0.2.1`. */
function plainAddress(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

function peerAddress(c: Context): string {
  try {
    const a = getConnInfo(c).remote.address;
    return a ? plainAddress(a) : 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}

/**
 * The client's IP address: with TRUST_PROXY the address the proxy appended
 * last to `X-Forwarded-For` (nginx `$remote_addr` or
 * `$proxy_add_x_forwarded_for`: the last entry is the one the proxy saw;
 * earlier entries are whatever the client claimed); otherwise the TCP peer.
 * A last entry that is not an IP address is not believed (the TCP peer, i.e.
 * the proxy, is used).
 *
 * @example
 * // TRUST_PROXY=true, `X-Forwarded-For: 198.51.100.7, 203.0.113.10` → '203.0.113.10'
 * const who = clientAddress(c, config.TRUST_PROXY);
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = lastValue(c.req.header('X-Forwarded-For'));
    if (forwarded && isIP(forwarded)) return plainAddress(forwarded);
  }
  return peerAddress(c);
}

/**
 * The key a per-address limit counts under: the address itself for IPv4,
 * its /64 for IPv6, because one household or phone gets a whole /64 and can
 * pick a fresh address in it for every request (RFC 6177 §2, RFC 7934 §6).
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Whether this request reached us over HTTPS: the request URL says so, or
 * with TRUST_PROXY the proxy's `X-Forwarded-Proto` does.
 */
export function isHttps(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && firstValue(c.req.header('X-Forwarded-Proto'))?.toLowerCase() === 'https';
}

/** A host name or bracketed IPv6 literal with an optional port (RFC 3986 §3.2.2-3, reg-name kept to LDH). */
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The origin (`scheme://host[:port]`, lower case) this request was addressed
 * to, as the browser saw it: with TRUST_PROXY from `X-Forwarded-Proto` and
 * `X-Forwarded-Host` (else `Host`); otherwise from the request itself. A
 * header that is not a host name is ignored.
 */
export function requestOrigin(c: Context, trustProxy: boolean): string {
  const url = new URL(c.req.url);
  const candidates = [trustProxy ? firstValue(c.req.header('X-Forwarded-Host')) : undefined, c.req.header('Host')];
  const host = candidates.find((h): h is string => h !== undefined && HOST.test(h)) ?? url.host;
  return `${isHttps(c, trustProxy) ? 'https' : 'http'}://${host}`.toLowerCase();
}

/**
 * Where residents reach this service, for absolute links (feeds, CAP
 * sender): PUBLIC_URL when set (without a trailing slash), else the
 * request's origin as `requestOrigin` reads it. Set PUBLIC_URL in
 * production: then no request header can change a link.
 *
 * @example
 * const atomSelf = `${publicBaseUrl(c, { trustProxy, publicUrl })}/api/alerts.atom`;
 */
export function publicBaseUrl(c: Context, options: ClientInfoOptions): string {
  if (options.publicUrl) return options.publicUrl.replace(/\/+$/, '');
  return requestOrigin(c, options.trustProxy);
}
