/**
 * A LINE-Messaging-API-shaped server on loopback for residents' LINE
 * (issue 14): checks the bearer token and the body of every reply and
 * multicast (1–5 text messages ≤ 5,000 characters, quick reply ≤ 13 buttons
 * with labels ≤ 20 characters, multicast `to` of 1–500 user ids, a UUID
 * X-Line-Retry-Key, 409 for a key already accepted), answers the profile and
 * quota endpoints, counts consumption per recipient as LINE does, and can be
 * scripted to answer 429 with Retry-After or 5xx. Also signs webhook calls
 * exactly as LINE does (base64 HMAC-SHA256 of the raw body, X-Line-Signature).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LineCall {
  at: number;
  path: string;
  status: number;
  json: any;
  retryKey?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function validMessages(messages: unknown): boolean {
  return (
    Array.isArray(messages) &&
    messages.length >= 1 &&
    messages.length <= 5 &&
    messages.every(
      (m: any) =>
        m.type === 'text' &&
        typeof m.text === 'string' &&
        m.text.length > 0 &&
        [...m.text].length <= 5000 &&
        (m.quickReply === undefined ||
          (Array.isArray(m.quickReply.items) &&
            m.quickReply.items.length <= 13 &&
            m.quickReply.items.every((i: any) => i.type === 'action' && (i.action.type === 'location' || (typeof i.action.label === 'string' && [...i.action.label].length <= 20 && (i.action.type !== 'postback' || (typeof i.action.data === 'string' && i.action.data.length <= 300))))))),
    )
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startLineApiServer(token: string) {
  const calls: LineCall[] = [];
  /** Accepted multicasts only. */
  const multicasts: LineCall[] = [];
  /** Accepted replies by reply token. */
  const replies = new Map<string, any[]>();
  /** Every message each user received: replies (by the reply token's user) and multicasts, in order. */
  const inbox = new Map<string, string[]>();
  const replyTokenUser = new Map<string, string>();
  const languages = new Map<string, string>();
  const seenKeys = new Set<string>();
  const quota = { type: 'limited' as 'limited' | 'none', value: 1_000_000, totalUsage: 0 };
  let faults: { status?: number; retryAfter?: number; hang?: boolean }[] = [];
  const hung = new Set<import('node:http').ServerResponse>();

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '';
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'x-line-request-id': randomBytes(8).toString('hex'), ...headers }).end(JSON.stringify(json));
      return status;
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      calls.push({ at: Date.now(), path, status: send(401, { message: 'Authentication failed' }), json: undefined });
      return;
    }
    if (req.method === 'GET') {
      const profile = /^\/v2\/bot\/profile\/(U[0-9a-f]{32})$/.exec(path);
      let status: number;
      if (profile) status = send(200, { userId: profile[1], displayName: 'テスト', language: languages.get(profile[1] as string) ?? 'ja' });
      else if (path === '/v2/bot/message/quota') status = send(200, quota.type === 'none' ? { type: 'none' } : { type: 'limited', value: quota.value });
      else if (path === '/v2/bot/message/quota/consumption') status = send(200, { totalUsage: quota.totalUsage });
      else status = send(404, { message: 'Not found' });
      calls.push({ at: Date.now(), path, status, json: undefined });
      return;
    }
    let json: any;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      calls.push({ at: Date.now(), path, status: send(400, { message: 'invalid json' }), json: undefined });
      return;
    }
    if (path === '/v2/bot/message/reply') {
      const ok = typeof json.replyToken === 'string' && validMessages(json.messages) && !replies.has(json.replyToken);
      const status = ok ? send(200, { sentMessages: [] }) : send(400, { message: 'Invalid reply token or body' });
      if (ok) {
        replies.set(json.replyToken, json.messages);
        const user = replyTokenUser.get(json.replyToken);
        if (user) for (const m of json.messages) inboxOf(user).push(m.text);
      }
      calls.push({ at: Date.now(), path, status, json });
      return;
    }
    if (path === '/v2/bot/message/multicast') {
      const key = String(req.headers['x-line-retry-key'] ?? '');
      const fault = faults.shift();
      if (fault?.hang) {
        hung.add(res);
        return;
      }
      if (fault) {
        calls.push({ at: Date.now(), path, status: send(fault.status ?? 500, { message: 'scripted' }, fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {}), json, retryKey: key });
        return;
      }
      const ok = Array.isArray(json.to) && json.to.length >= 1 && json.to.length <= 500 && json.to.every((u: unknown) => typeof u === 'string' && /^U[0-9a-f]{32}$/.test(u)) && validMessages(json.messages) && UUID.test(key);
      if (!ok) {
        calls.push({ at: Date.now(), path, status: send(400, { message: 'The request body has 1 error(s)' }), json, retryKey: key });
        return;
      }
      if (seenKeys.has(key)) {
        calls.push({ at: Date.now(), path, status: send(409, { message: 'The retry key is already accepted' }), json, retryKey: key });
        return;
      }
      seenKeys.add(key);
      quota.totalUsage += json.to.length * json.messages.length;
      for (const u of json.to) for (const m of json.messages) inboxOf(u).push(m.text);
      const call = { at: Date.now(), path, status: send(200, {}), json, retryKey: key };
      calls.push(call);
      multicasts.push(call);
      return;
    }
    calls.push({ at: Date.now(), path, status: send(404, { message: 'Not found' }), json });
  });
  function inboxOf(user: string): string[] {
    let m = inbox.get(user);
    if (!m) inbox.set(user, (m = []));
    return m;
  }
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    calls,
    multicasts,
    replies,
    inbox,
    quota,
    /** The profile language LINE reports for a user (default ja). */
    setLanguage: (userId: string, lang: string) => languages.set(userId, lang),
    /** Answer the next multicasts with these statuses (and Retry-After seconds). */
    failMulticasts: (f: { status?: number; retryAfter?: number; hang?: boolean }[]) => {
      faults = [...f];
    },
    /** Note whose reply token this is, so replies land in that user's inbox. */
    tokenFor(userId: string): string {
      const t = randomBytes(16).toString('hex');
      replyTokenUser.set(t, userId);
      return t;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
export type LineApiServer = Awaited<ReturnType<typeof startLineApiServer>>;

/** base64(HMAC-SHA256(channel secret, raw body)): how LINE signs a webhook call (X-Line-Signature). */
export function signLineBody(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

let eventSeq = 0;
/** A webhook event as LINE sends it (one-to-one chat with `userId`). */
export function lineEvent(line: LineApiServer, userId: string, e: Record<string, unknown> & { type: string }, opts: { redelivery?: boolean; webhookEventId?: string } = {}) {
  return {
    mode: 'active',
    timestamp: Date.now(),
    source: { type: 'user', userId },
    webhookEventId: opts.webhookEventId ?? `01H${(++eventSeq).toString().padStart(23, '0')}`,
    deliveryContext: { isRedelivery: opts.redelivery ?? false },
    ...(e.type !== 'unfollow' && { replyToken: line.tokenFor(userId) }),
    ...e,
  };
}

/** POST events to kansui's webhook, signed with `secret` (or a given signature). */
export async function postWebhook(url: string, secret: string, events: unknown[], signature?: string | null): Promise<Response> {
  const body = JSON.stringify({ destination: `U${'0'.repeat(32)}`, events });
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (signature !== null) headers['X-Line-Signature'] = signature ?? signLineBody(secret, body);
  return fetch(url, { method: 'POST', headers, body });
}

export function lineUserId(i: number): string {
  return `U${i.toString(16).padStart(32, '0')}`;
}
