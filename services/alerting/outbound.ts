import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { ChannelKind } from '../core/alerts/channel.ts';
import { decideOutbound, formatIp, parseIp, type AddressClass, type AllowRule } from '../core/outbound-policy.ts';

/** Resolve a host name to every address it has (dns.lookup: /etc/hosts, then DNS, as the system does). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemLookup: HostLookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** A connection the outbound policy refused (services/core/outbound-policy.ts). */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
  readonly code = 'EOUTBOUNDREFUSED';
  constructor(
    readonly addressClass: AddressClass,
    readonly host: string,
    readonly port: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundRefusal {
  channel: ChannelKind;
  host: string;
  port: number;
  class: AddressClass;
}

export interface OutboundGuardOptions {
  /** ALERT_ALLOW_PRIVATE_TARGETS, parsed. */
  rules: readonly AllowRule[];
  /** Name resolution (tests inject one that answers a chosen address). */
  lookup?: HostLookup;
  /** Told of every refused connection (metrics, log). */
  onRefused?: (refusal: OutboundRefusal) => void;
  /** Extra trusted CA certificates for https (tests; in production NODE_EXTRA_CA_CERTS does this for the whole process). */
  ca?: string | Buffer;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

/** A `lookup` for net/http that answers with addresses already resolved and checked, so the socket goes exactly there. */
function fixedLookup(addresses: { address: string; family: number }[]) {
  return (_hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    const first = addresses[0] as { address: string; family: number };
    if (options?.all) callback(null, addresses);
    else callback(null, first.address, first.family);
  };
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/**
 * The outbound policy applied where it cannot be dodged: at connect time, to
 * the addresses the host resolves to. Every channel resolves through
 * `resolve`, which refuses the whole host if any of its addresses is refused
 * (a rebinding name often answers a public and a private address), and then
 * connects to exactly the addresses it checked: no second lookup, so a DNS
 * answer that changes between check and connect changes nothing.
 */
export function createOutboundGuard(options: OutboundGuardOptions) {
  const lookup = options.lookup ?? systemLookup;

  async function resolve(hostname: string, port: number, channel: ChannelKind): Promise<{ address: string; family: number }[]> {
    const host = hostname.replace(/^\[|\]$/g, '');
    const literal = parseIp(host);
    const found = literal ? [{ address: formatIp(literal), family: literal.family }] : await lookup(host);
    if (!found.length) throw Object.assign(new Error(`${host}: no address`), { code: 'ENOTFOUND' });
    for (const a of found) {
      const ip = parseIp(a.address);
      const d = ip ? decideOutbound({ host, port, address: ip }, options.rules) : { ok: false as const, class: 'reserved' as const, reason: `${a.address}: not an address` };
      if (!d.ok) {
        options.onRefused?.({ channel, host, port, class: d.class });
        throw new OutboundRefusedError(d.class, host, port, `${host}:${port} refused: ${d.reason}`);
      }
    }
    return found;
  }

  return {
    resolve,

    /**
     * POST over node:http(s) to a checked address; resolves with the status
     * as soon as it arrives. The answer's body is read and thrown away (at
     * most 64 KiB, then the connection is dropped): nothing from the remote
     * side is kept or shown, so a refused-then-allowed target cannot be used
     * to read an internal service's answer. Redirects are not followed.
     */
    createPoster(channel: ChannelKind) {
      const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true, ...(options.ca && { ca: options.ca }) }) };
      return {
        async post(target: string, init: { headers: Record<string, string>; body: string; signal: AbortSignal }): Promise<number> {
          const url = new URL(target);
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError('reserved', url.hostname, 0, `scheme ${url.protocol} refused`);
          const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
          // A resolver that hangs must not hold a delivery slot past the dispatcher's deadline.
          const addresses = await untilAborted(resolve(url.hostname, port, channel), init.signal);
          const body = Buffer.from(init.body, 'utf8');
          return new Promise<number>((resolvePost, reject) => {
            const request = url.protocol === 'https:' ? https.request : http.request;
            const req = request(
              url,
              {
                method: 'POST',
                headers: { ...init.headers, 'Content-Length': String(body.length) },
                agent: agents[url.protocol as 'http:' | 'https:'],
                lookup: fixedLookup(addresses) as unknown as net.LookupFunction,
                signal: init.signal,
              },
              (res) => {
                let seen = 0;
                res.on('data', (chunk: Buffer) => {
                  seen += chunk.length;
                  if (seen > 65_536) res.destroy();
                });
                res.on('error', () => {});
                resolvePost(res.statusCode ?? 0);
              },
            );
            req.on('error', reject);
            req.end(body);
          });
        },
        close(): void {
          agents['http:'].destroy();
          agents['https:'].destroy();
        },
      };
    },

    /**
     * An undici connector (Agent `connect` option) that resolves and checks
     * first, then opens the socket with a lookup that answers only the
     * checked addresses (tried in turn, both families: `autoSelectFamily`,
     * RFC 8305). TLS verifies the certificate for the name in the URL.
     */
    undiciConnector(channel: ChannelKind, connectTimeoutMs = 10_000) {
      return (
        opts: { hostname: string; protocol: string; port: string; servername?: string | null },
        callback: (...args: [null, net.Socket] | [Error, null]) => void,
      ): void => {
        const secure = opts.protocol === 'https:';
        const port = Number(opts.port) || (secure ? 443 : 80);
        const host = opts.hostname.replace(/^\[|\]$/g, '');
        resolve(host, port, channel).then(
          (addresses) => {
            const common = { host, port, lookup: fixedLookup(addresses) as unknown as net.LookupFunction, autoSelectFamily: true };
            const servername = opts.servername || (net.isIP(host) ? undefined : host);
            const socket: net.Socket = secure ? tls.connect({ ...common, ...(servername && { servername }), ...(options.ca && { ca: options.ca }), ALPNProtocols: ['http/1.1'] }) : net.connect(common);
            socket.setNoDelay(true);
            socket.setKeepAlive(true, 60_000);
            const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), connectTimeoutMs);
            const onError = (err: Error) => {
              clearTimeout(timer);
              callback(err, null);
            };
            socket.once(secure ? 'secureConnect' : 'connect', () => {
              clearTimeout(timer);
              socket.off('error', onError);
              callback(null, socket);
            });
            socket.once('error', onError);
          },
          (err: Error) => callback(err, null),
        );
      };
    },

    /**
     * nodemailer's `getSocket` hook: resolve and check the SMTP host, open
     * the TCP connection to the checked address, and hand it over;
     * nodemailer then does its TLS (smtps: or STARTTLS) for the host name.
     */
    smtpGetSocket(timeoutMs: number) {
      return (opts: { host?: string; port?: number | string; secure?: boolean }, callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void): void => {
        const host = opts.host ?? 'localhost';
        // nodemailer's own default (smtp-connection: 465 when secure, else 587).
        const port = Number(opts.port) || (opts.secure ? 465 : 587);
        resolve(host, port, 'email').then(
          (addresses) => {
            const socket = net.connect({ host, port, lookup: fixedLookup(addresses) as unknown as net.LookupFunction, autoSelectFamily: true });
            socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })));
            socket.once('connect', () => {
              socket.setTimeout(0);
              callback(null, { connection: socket });
            });
            socket.once('error', (err) => callback(err));
          },
          (err: Error) => callback(err),
        );
      };
    },
  };
}
export type OutboundGuard = ReturnType<typeof createOutboundGuard>;

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * What the delivery log keeps of a failure: a class, never the remote side's
 * words (a body, an SMTP reply text) nor which internal port answered how.
 */
export function describeDeliveryError(err: unknown): string {
  const e = err as { code?: string; name?: string; addressClass?: string; message?: string } | undefined;
  if (e instanceof OutboundRefusedError) return `outbound_refused:${e.addressClass}`;
  const code = String(e?.code ?? '');
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ABORT_ERR') return 'timeout';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ENOTFOUND' || code.startsWith('EAI_')) return 'dns_failed';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED' || /socket hang up/.test(e?.message ?? '')) return 'connection_reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
  if (TLS_CODE.test(code)) return 'tls_error';
  return 'network_error';
}

/**
 * An HTTP status as a delivery outcome: 2xx delivered; 408, 425, 429 and 5xx
 * worth retrying (RFC 9110 §15.5.9, §15.6; RFC 6585 §4); any other status
 * means the request itself is wrong and retrying cannot help. Only the code
 * is kept (issue 10: the delivery log never holds the remote body).
 */
export function outcomeOfStatus(status: number): { ok: true; status: number } | { ok: false; status: number; error: string; permanent: boolean } {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  return { ok: false, status, error: `HTTP ${status}`, permanent: !retryable };
}
