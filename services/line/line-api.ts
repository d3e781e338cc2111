import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { LineTextMessage } from '../core/line-conversation.ts';
import type { OutboundGuard } from '../alerting/outbound.ts';

/** One answer from the LINE API: status, Retry-After (seconds) and, for GETs, the JSON body. */
export interface LineAnswer {
  status: number;
  retryAfterS: number | undefined;
  json?: unknown;
}

/** Answers bigger than this are cut off: quota and profile answers are a few hundred bytes. */
const MAX_ANSWER_BYTES = 65_536;

/** A stable UUID (v4 layout) from a string: LINE's X-Line-Retry-Key must be a UUID, the same on every retry. */
export function retryKeyOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The Messaging API calls residents' LINE needs (reply, multicast, profile
 * language, quota), over node:http(s) to addresses the alert channels'
 * outbound guard resolved and checked (services/alerting/outbound.ts,
 * issue 10): LINE_API_BASE pointed at an internal address is refused unless
 * ALERT_ALLOW_PRIVATE_TARGETS lists it, exactly as for the staff LINE channel.
 * Only what kansui needs is read from an answer (status, Retry-After, the
 * quota numbers, the profile's language); the profile is never kept.
 */
export function createLineApi(options: { token: string; baseUrl: string; outbound: OutboundGuard; timeoutMs?: number }) {
  const base = options.baseUrl.replace(/\/$/, '');
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, outer?: AbortSignal): Promise<LineAnswer> {
    const url = new URL(base + path);
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const signal = outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    // A resolver that hangs gives up with the attempt.
    const addresses = await new Promise<{ address: string; family: number }[]>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      options.outbound.resolve(url.hostname, port, 'line').then(
        (a) => (signal.removeEventListener('abort', onAbort), resolve(a)),
        (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise<LineAnswer>((resolve, reject) => {
      const request = url.protocol === 'https:' ? https.request : http.request;
      const req = request(
        url,
        {
          method,
          headers: {
            Authorization: `Bearer ${options.token}`,
            ...(payload && { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }),
            ...headers,
          },
          agent: agents[url.protocol as 'http:' | 'https:'],
          // Connect to exactly the addresses the guard checked: no second lookup.
          lookup: ((_h: string, o: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) => {
            const first = addresses[0] as { address: string; family: number };
            if (o?.all) cb(null, addresses);
            else cb(null, first.address, first.family);
          }) as unknown as net.LookupFunction,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let seen = 0;
          res.on('data', (c: Buffer) => {
            seen += c.length;
            if (seen > MAX_ANSWER_BYTES) res.destroy();
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const ra = Number(res.headers['retry-after']);
            let json: unknown;
            if (method === 'GET' && res.statusCode === 200) {
              try {
                json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              } catch {
                json = undefined;
              }
            }
            resolve({ status: res.statusCode ?? 0, retryAfterS: Number.isFinite(ra) && ra >= 0 ? ra : undefined, ...(json !== undefined && { json }) });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  return {
    /** `POST /v2/bot/message/reply` (the reply token is valid for a short time after the event). */
    reply: (replyToken: string, messages: LineTextMessage[]) => call('POST', '/v2/bot/message/reply', { replyToken, messages }),
    /** `POST /v2/bot/message/multicast`: at most 500 user ids (Messaging API reference); the retry key makes a resend after a lost answer harmless. */
    multicast(to: string[], messages: LineTextMessage[], retryKey: string, signal?: AbortSignal) {
      if (to.length > 500) throw new RangeError('multicast takes at most 500 user ids');
      return call('POST', '/v2/bot/message/multicast', { to, messages }, { 'X-Line-Retry-Key': retryKey }, signal);
    },
    /** The user's language from `GET /v2/bot/profile/{userId}`; nothing else of the profile is read or kept. */
    async profileLang(userId: string): Promise<string | undefined> {
      const a = await call('GET', `/v2/bot/profile/${encodeURIComponent(userId)}`);
      const lang = (a.json as { language?: unknown } | undefined)?.language;
      return typeof lang === 'string' ? lang : undefined;
    },
    /** `GET /v2/bot/message/quota` (`{type: "limited", value}` or `{type: "none"}`) and `/quota/consumption` (`{totalUsage}`). */
    async quota(): Promise<{ limit: number | undefined; used: number } | undefined> {
      const [q, c] = await Promise.all([call('GET', '/v2/bot/message/quota'), call('GET', '/v2/bot/message/quota/consumption')]);
      const qj = q.json as { type?: string; value?: number } | undefined;
      const cj = c.json as { totalUsage?: number } | undefined;
      if (!qj || !cj || typeof cj.totalUsage !== 'number') return undefined;
      return { limit: qj.type === 'limited' && typeof qj.value === 'number' ? qj.value : undefined, used: cj.totalUsage };
    },
    close(): void {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
export type LineApi = ReturnType<typeof createLineApi>;
