/**
 * Real protocol endpoints on loopback that receive alert deliveries, for the
 * AlertChannel contract suite, the end-to-end test and the benchmark:
 * a webhook receiver that verifies the HMAC signature, a LINE-Messaging-API-
 * shaped server that checks the bearer token and body, an SMTP server
 * (smtp-server), and a Web Push endpoint that verifies the VAPID JWT and
 * DECRYPTS the aes128gcm payload with the subscription's private keys (RFC 8291).
 */
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';


/** Scripted misbehaviour: answer the next `times` requests with `status`, or hang them. */
export interface Fault {
  times: number;
  status?: number;
  hang?: boolean;
}

export interface Received {
  at: number;
  headers: Record<string, string | string[] | undefined>;
  /** Decoded JSON body / payload, when it is JSON. */
  json?: any;
  /** Human text found in the delivery (LINE text, mail body, push title+body). */
  text: string;
}

interface Base {
  received: Received[];
  /** Make the next requests fail or hang. */
  fault(f: Fault): void;
  /** Wait until `n` deliveries arrived (deadline `timeoutMs`). */
  waitForCount(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

function makeBase(): Base & { takeFault(): Fault | undefined; push(r: Received): void; onClose: (() => Promise<void>)[] } {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  let fault: Fault | undefined;
  const base = {
    received,
    onClose: [] as (() => Promise<void>)[],
    fault(f: Fault) {
      fault = { ...f };
    },
    takeFault(): Fault | undefined {
      if (!fault || fault.times <= 0) return undefined;
      fault.times--;
      return fault;
    },
    push(r: Received) {
      received.push(r);
      for (const w of waiters) w();
    },
    waitForCount(n: number, timeoutMs = 10_000): Promise<Received[]> {
      if (received.length >= n) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${n} deliveries within ${timeoutMs} ms, got ${received.length}`));
        }, timeoutMs);
        const check = () => {
          if (received.length >= n) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(received);
          }
        };
        waiters.add(check);
      });
    },
    async close() {
      for (const c of base.onClose) await c();
    },
  };
  return base;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const hung = new Set<ServerResponse>();
  (server as Server & { hung?: Set<ServerResponse> }).hung = hung;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function applyFault(base: ReturnType<typeof makeBase>, res: ServerResponse, server: Server): boolean {
  const f = base.takeFault();
  if (!f) return false;
  if (f.hang) {
    (server as Server & { hung?: Set<ServerResponse> }).hung?.add(res);
    return true;
  }
  res.writeHead(f.status ?? 500, { 'Content-Type': 'text/plain' }).end('scripted failure');
  return true;
}

/** Webhook receiver: 401 unless `X-Kansui-Signature` is the HMAC-SHA256 of the exact body under `secret`. */
export async function startWebhookReceiver(secret: string) {
  const base = makeBase();
  let rejected = 0;
  const { server, url, close } = await listen(async (req, res) => {
    const body = await readBody(req);
    if (applyFault(base, res, server)) return;
    const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(body).digest('hex'));
    const got = Buffer.from(String(req.headers['x-kansui-signature'] ?? ''));
    if (req.method !== 'POST' || got.length !== expected.length || !timingSafeEqual(got, expected)) {
      rejected++;
      res.writeHead(401).end('bad signature');
      return;
    }
    const json = JSON.parse(body.toString('utf8'));
    base.push({ at: Date.now(), headers: req.headers, json, text: `${json.text?.ja?.title ?? ''}\n${json.text?.ja?.body ?? ''}\n${json.text?.en?.body ?? ''}` });
    res.writeHead(204).end();
  });
  base.onClose.push(close);
  return Object.assign(base, { url: `${url}/hook`, rejected: () => rejected });
}

/** LINE Messaging API push endpoint: checks bearer token, JSON shape, retry-key format; 401/400 otherwise. */
export async function startLineReceiver(token: string) {
  const base = makeBase();
  const seenKeys = new Set<string>();
  const { server, url, close } = await listen(async (req, res) => {
    const body = await readBody(req);
    if (req.method !== 'POST' || req.url !== '/v2/bot/message/push') {
      res.writeHead(404).end('{"message":"Not found"}');
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"message":"Authentication failed"}');
      return;
    }
    if (applyFault(base, res, server)) return;
    let json: any;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400).end('{"message":"invalid json"}');
      return;
    }
    const key = String(req.headers['x-line-retry-key'] ?? '');
    const ok =
      typeof json.to === 'string' &&
      Array.isArray(json.messages) &&
      json.messages.length >= 1 &&
      json.messages.length <= 5 &&
      json.messages.every((m: any) => m.type === 'text' && typeof m.text === 'string' && m.text.length > 0 && m.text.length <= 5000) &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(key);
    if (!ok) {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"message":"The request body has 1 error(s)"}');
      return;
    }
    if (seenKeys.has(key)) {
      res.writeHead(409, { 'Content-Type': 'application/json' }).end('{"message":"The retry key is already accepted"}');
      return;
    }
    seenKeys.add(key);
    base.push({ at: Date.now(), headers: req.headers, json, text: json.messages.map((m: any) => m.text).join('\n') });
    res.writeHead(200, { 'Content-Type': 'application/json', 'x-line-request-id': randomBytes(8).toString('hex') }).end('{"sentMessages":[{"id":"1","quoteToken":"q"}]}');
  });
  base.onClose.push(close);
  return Object.assign(base, { baseUrl: url });
}

/** Decode RFC 2047 encoded-words (=?UTF-8?B?…?= / ?Q?) in a header. */
function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** A single-part text mail as nodemailer writes it: headers and decoded text. */
export function parseMail(raw: string): { headers: Record<string, string>; subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text = cte === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : cte === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
  return { headers, subject: decodeWords(headers.subject ?? ''), text };
}

/** SMTP server (smtp-server) on loopback, no TLS, no auth; a fault answers DATA with an SMTP code. */
export async function startSmtpReceiver() {
  const base = makeBase();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // Close promptly in tests even when a client still holds a (hung) session.
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const f = base.takeFault();
        if (f?.hang) return; // never answer
        if (f) {
          const err = Object.assign(new Error('scripted failure'), { responseCode: f.status ?? 451 });
          callback(err);
          return;
        }
        const raw = Buffer.concat(chunks).toString('latin1');
        const mail = parseMail(Buffer.from(raw, 'latin1').toString('utf8'));
        base.push({
          at: Date.now(),
          headers: { ...mail.headers, 'envelope-to': session.envelope.rcptTo.map((r) => r.address).join(',') },
          text: `${mail.subject}\n${mail.text}`,
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = (server.server as Server).address() as AddressInfo;
  base.onClose.push(() => new Promise<void>((r) => server.close(() => r())));
  return Object.assign(base, { url: `smtp://127.0.0.1:${port}` });
}

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Decrypt an aes128gcm Web Push message (RFC 8291 §3.4 key derivation, RFC 8188
 * §2 record format) with the user agent's ECDH key and auth secret.
 */
export function decryptWebPush(body: Buffer, ua: { ecdh: ReturnType<typeof createECDH>; publicKey: Buffer; auth: Buffer }): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] as number;
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  if (idlen !== 65) throw new Error(`keyid must be the 65-byte sender key, got ${idlen}`);
  if (records.length > rs) throw new Error('more than one record: not expected for a ≤ 4 KiB push message');
  const ecdhSecret = ua.ecdh.computeSecret(asPublic);
  const prkKey = hmac(ua.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.publicKey, asPublic, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo).subarray(0, 32);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.concat([Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])])).subarray(0, 16);
  const nonce = hmac(prk, Buffer.concat([Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])])).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const plain = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error('last record must end with the 0x02 delimiter (RFC 8188 §2)');
  return plain.subarray(0, end);
}

/** Verify `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3): ES256 over the JWT with key k, aud = endpoint origin, exp in the future. */
export function verifyVapid(header: string | undefined, origin: string, expectedKey?: string): { ok: boolean; why?: string; sub?: string } {
  const m = header?.match(/^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/);
  if (!m) return { ok: false, why: 'no vapid authorization' };
  const [, jwt, k] = m as unknown as [string, string, string];
  if (expectedKey && k !== expectedKey) return { ok: false, why: 'unexpected key' };
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const raw = Buffer.from(k, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  const good = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!good) return { ok: false, why: 'bad signature' };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  if (claims.aud !== origin) return { ok: false, why: `aud ${claims.aud} ≠ ${origin}` };
  if (!(claims.exp > Date.now() / 1000) || claims.exp > Date.now() / 1000 + 24 * 3600) return { ok: false, why: 'exp out of range' };
  return { ok: true, sub: claims.sub };
}

/**
 * A push service on loopback. `subscribe()` makes a browser-like subscription
 * (P-256 key pair + 16-byte auth secret) whose endpoint is on this server;
 * each delivery is checked (VAPID) and decrypted with that subscription's keys.
 */
export async function startPushService(options: { vapidPublicKey?: string } = {}) {
  const base = makeBase();
  const subs = new Map<string, { ecdh: ReturnType<typeof createECDH>; publicKey: Buffer; auth: Buffer }>();
  const gone = new Set<string>();
  let failures = 0;
  let origin = '';
  const { server, url, close } = await listen(async (req, res) => {
    const body = await readBody(req);
    const id = req.url?.match(/^\/push\/([A-Za-z0-9_-]+)$/)?.[1];
    const sub = id ? subs.get(id) : undefined;
    if (req.method !== 'POST' || !id || !sub || gone.has(id)) {
      res.writeHead(410).end();
      return;
    }
    if (applyFault(base, res, server)) return;
    const vapid = verifyVapid(req.headers.authorization, origin, options.vapidPublicKey);
    if (!vapid.ok) {
      failures++;
      res.writeHead(403).end(vapid.why);
      return;
    }
    if (req.headers['content-encoding'] !== 'aes128gcm' || !req.headers.ttl) {
      failures++;
      res.writeHead(400).end('expected Content-Encoding: aes128gcm and TTL');
      return;
    }
    let json: any;
    try {
      json = JSON.parse(decryptWebPush(body, sub).toString('utf8'));
    } catch (err) {
      failures++;
      res.writeHead(400).end(`cannot decrypt: ${(err as Error).message}`);
      return;
    }
    base.push({ at: Date.now(), headers: { ...req.headers, 'x-subscription': id }, json, text: `${json.title}\n${json.body}` });
    res.writeHead(201, { Location: `${origin}/message/${randomBytes(6).toString('hex')}` }).end();
  });
  origin = url;
  base.onClose.push(close);
  return Object.assign(base, {
    url,
    /** Deliveries that failed VAPID, encoding or decryption checks. */
    failures: () => failures,
    /** A new subscription in `PushSubscription.toJSON()` shape. */
    subscribe() {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(9).toString('base64url');
      subs.set(id, { ecdh, publicKey, auth });
      return {
        endpoint: `${url}/push/${id}`,
        expirationTime: null,
        keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    /** Make an endpoint answer 410 Gone from now on (the browser unsubscribed). */
    expire(endpoint: string) {
      gone.add(endpoint.split('/').pop() as string);
    },
  });
}
