import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import type { HostLookup } from '../../services/alerting/outbound.ts';
import { loadConfig } from '../../services/config.ts';
import { DEFAULT_PUSH_HOSTS } from '../../services/core/outbound-policy.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

/**
 * Issue 10 #1 and #2 (SSRF), against the real service over real HTTP: a
 * resident's push subscription and a staff webhook cannot make kansui
 * connect to loopback, link-local or other internal addresses, neither by
 * naming them (refused at input with 400 naming the field) nor through a
 * name that resolves to them (refused at connect time: the loopback
 * listener sees no connection at all). With the operator's override the
 * same loopback webhook is delivered. The delivery log keeps a status or an
 * error class, never the answer's body. Resident subscriptions are capped
 * and one endpoint is one subscription.
 */

const MIN = 60_000;
const SECRET_BODY = 'INTERNAL-SECRET-BODY-do-not-leak';

/** An "internal service" on loopback: counts TCP connections and requests; answers `status` with `body`. */
async function startListener(status: number, body = ''): Promise<{ port: number; connections: () => number; requests: { url: string; headers: Record<string, unknown> }[]; close: () => Promise<void> }> {
  let connections = 0;
  const requests: { url: string; headers: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Name resolution for the service under test: these names resolve to
 * loopback (a rebinding attacker's DNS); every other name fails, so nothing
 * leaves this machine.
 */
const lookedUp: string[] = [];
const rebindingLookup: HostLookup = async (hostname) => {
  lookedUp.push(hostname);
  if (hostname === 'rebind.test' || hostname === 'rebind.push.example') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

/** A browser-like subscription (valid P-256 key) on `endpoint`. */
function subscriptionAt(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}
const fcm = () => `https://fcm.googleapis.com/fcm/send/${randomBytes(18).toString('base64url')}`;

describe('outbound requests: no SSRF through push subscriptions or webhooks (issue 10 #1, #2)', () => {
  const vapid = generateVapidKeys();
  // The push-subscribe limiter allows 10 writes a minute per address; a clock moved a minute on before each batch keeps it out of the way.
  let offset = 0;
  const now = () => Date.now() + offset;
  const nextMinute = () => (offset += MIN);
  let trap: Awaited<ReturnType<typeof startListener>>;
  let hook: Awaited<ReturnType<typeof startListener>>;
  let leak: Awaited<ReturnType<typeof startListener>>;
  /** The default policy (nothing but public addresses), push capped at 4. */
  let k: TestKansui;
  /** An operator who lists the city's internal webhook and an internal push relay. */
  let allowed: TestKansui;
  let staff: string;
  let allowedStaff: string;

  beforeAll(async () => {
    [trap, hook, leak] = await Promise.all([startListener(204), startListener(204), startListener(500, SECRET_BODY)]);
    const common = { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey };
    const options = { now, sweepMs: 60_000, outboundLookup: rebindingLookup, alerting: { retry: { attempts: 2, baseDelayMs: 20, timeoutMs: 5_000 } } };
    // The push services browsers use, plus one the operator trusts whose DNS an attacker turned to loopback.
    k = await startTestKansui({ ...common, PUSH_MAX_SUBSCRIPTIONS: '4', PUSH_ALLOWED_HOSTS: `${DEFAULT_PUSH_HOSTS},https://rebind.push.example:${trap.port}` }, options);
    allowed = await startTestKansui(
      {
        ...common,
        ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${hook.port}, 127.0.0.1:${leak.port}`,
        PUSH_ALLOWED_HOSTS: `fcm.googleapis.com, http://127.0.0.1:${leak.port}`,
      },
      options,
    );
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    allowedStaff = allowed.users.issueToken(allowed.users.create('sato', 'staff', null).id).token;
  });
  afterAll(async () => {
    await k?.dispose();
    await allowed?.dispose();
    await Promise.all([trap?.close(), hook?.close(), leak?.close()]);
  });

  const sensor = (kk: TestKansui, id: string) => registerSensor(kk.registry, { id, name: `${id} アンダーパス`, lat: 34.27, lon: 135.39, intervalS: 3600 }, now());
  /** Raise a warning on `id` and wait until every delivery attempt (retries included) is over. */
  async function raiseWarning(kk: TestKansui, id: string): Promise<void> {
    await kk.ingest.submit(id, Buffer.from(JSON.stringify({ ts: now() - 20 * MIN, level_cm: 2 })));
    await kk.ingest.submit(id, Buffer.from(JSON.stringify({ ts: now() - 10 * MIN, level_cm: 24 })));
    expect((await (await fetch(`${kk.httpUrl}/api/alerts?active=true&sensor=${id}`)).json()).alerts).toHaveLength(1);
    await kk.alerting.idle();
  }
  const subscribe = (kk: TestKansui, endpoint: string, sensors: string[]) =>
    fetch(`${kk.httpUrl}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: kk.httpUrl },
      body: JSON.stringify({ subscription: subscriptionAt(endpoint), sensors, min_status: 'caution', lang: 'ja' }),
    });
  const addWebhook = (kk: TestKansui, token: string, target: string, sensors: string[] = ['*']) =>
    fetch(`${kk.httpUrl}/api/alert-recipients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'webhook', target, sensors }),
    });
  const deliveryLog = async (kk: TestKansui, token: string) => {
    const res = await fetch(`${kk.httpUrl}/api/alert-deliveries?limit=1000`, { headers: { Authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { text, rows: JSON.parse(text).deliveries as { recipient_id: string; channel: string; ok: boolean; final: boolean; attempt: number; status: number | null; error: string | null }[] };
  };
  async function metric(kk: TestKansui, series: string): Promise<number> {
    const text = await (await fetch(`${kk.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  it('#1 an anonymous push subscription to loopback, link-local or a host that is no push service is refused with 400 naming the field; a real one is taken', async () => {
    sensor(k, 'px-01');
    nextMinute();
    const attacks = [
      `http://127.0.0.1:${trap.port}/push/abc`,
      'http://169.254.169.254/latest/meta-data/iam',
      `https://127.0.0.1:${trap.port}/push/abc`,
      'https://evil.example/push/abc',
      'http://fcm.googleapis.com/fcm/send/abc',
    ];
    for (const endpoint of attacks) {
      const res = await subscribe(k, endpoint, ['px-01']);
      expect(res.status, endpoint).toBe(400);
      const body = await res.json();
      expect(body.error).toMatchObject({ code: 'invalid_input', details: { param: 'subscription.endpoint' } });
      expect(body.error.message).toMatch(/^subscription\.endpoint: /);
    }
    expect(await metric(k, 'kansui_push_subscriptions_refused_total{reason="target"}')).toBe(attacks.length);

    const good = await subscribe(k, fcm(), ['px-01']);
    expect(good.status).toBe(201);
    await raiseWarning(k, 'px-01');
    expect(trap.connections()).toBe(0);
    expect(k.alerting.residentCount()).toBe(1);
  });

  it('#1 a push endpoint on a listed push service whose name resolves to loopback is refused at connect time: no connection, logged as a class, subscription dropped', async () => {
    sensor(k, 'px-02');
    nextMinute();
    expect((await subscribe(k, `https://fcm.googleapis.com:${trap.port}/push/abc`, ['px-02'])).status).toBe(400); // a listed host, another port
    const res = await subscribe(k, `https://rebind.push.example:${trap.port}/push/abc`, ['px-02']);
    expect(res.status).toBe(201); // a name: only the connect-time check can judge it
    const { id } = await res.json();
    const before = k.alerting.residentCount();
    await raiseWarning(k, 'px-02');
    expect(lookedUp).toContain('rebind.push.example');
    expect(trap.connections()).toBe(0);
    const rows = (await deliveryLog(k, staff)).rows.filter((d) => d.recipient_id === id);
    expect(rows).toEqual([expect.objectContaining({ channel: 'webpush', ok: false, final: true, attempt: 1, status: null, error: 'outbound_refused:loopback' })]);
    expect(k.alerting.residentCount()).toBe(before - 1);
    expect(await metric(k, 'kansui_alert_outbound_refused_total{channel="webpush",class="loopback"}')).toBe(1);
  });

  it('#2 a staff webhook to 169.254.169.254, [::1], 0.0.0.0:22, localhost:8086 or 127.1 is refused with 400 naming target; a public one is taken', async () => {
    const attacks = [
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${trap.port}/hook`,
      'http://0.0.0.0:22/',
      'http://localhost:8086/write',
      `http://127.1:${trap.port}/hook`,
      `http://2130706433:${trap.port}/hook`,
      `http://[::ffff:127.0.0.1]:${trap.port}/hook`,
      'http://10.0.0.8/hook',
    ];
    for (const target of attacks) {
      const res = await addWebhook(k, staff, target);
      expect(res.status, target).toBe(400);
      const body = await res.json();
      expect(body.error).toMatchObject({ code: 'invalid_input', details: { param: 'target' } });
      expect(body.error.message).toMatch(/^target: refused: /);
    }
    const good = await addWebhook(k, staff, 'https://hooks.city.example/flood', ['px-01']);
    expect(good.status).toBe(201);
    expect((await fetch(`${k.httpUrl}/api/alert-recipients/${(await good.json()).id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${staff}` } })).status).toBe(204);
    expect(trap.connections()).toBe(0);
  });

  it('#2 a staff webhook whose name resolves to loopback is refused at connect time: the loopback listener gets no connection', async () => {
    sensor(k, 'wh-01');
    const created = await addWebhook(k, staff, `http://rebind.test:${trap.port}/hook`, ['wh-01']);
    expect(created.status).toBe(201);
    const { id } = await created.json();
    await raiseWarning(k, 'wh-01');
    expect(lookedUp).toContain('rebind.test');
    expect(trap.connections()).toBe(0);
    const rows = (await deliveryLog(k, staff)).rows.filter((d) => d.recipient_id === id);
    // Refused stays refused until the configuration changes: one attempt, final.
    expect(rows).toEqual([expect.objectContaining({ channel: 'webhook', ok: false, final: true, attempt: 1, status: null, error: 'outbound_refused:loopback' })]);
    expect(await metric(k, 'kansui_alert_outbound_refused_total{channel="webhook",class="loopback"}')).toBe(1);
  });

  it('#2 with the operator override the same loopback webhook is delivered, by address and by a name resolving to it; an unlisted port still is not', async () => {
    sensor(allowed, 'ok-01');
    const byAddress = await addWebhook(allowed, allowedStaff, `http://127.0.0.1:${hook.port}/hook`, ['ok-01']);
    const byName = await addWebhook(allowed, allowedStaff, `http://rebind.test:${hook.port}/hook`, ['ok-01']);
    expect(byAddress.status).toBe(201);
    expect(byName.status).toBe(201);
    expect((await addWebhook(allowed, allowedStaff, `http://127.0.0.1:${trap.port}/hook`, ['ok-01'])).status).toBe(400);
    await raiseWarning(allowed, 'ok-01');
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests.every((r) => String(r.headers['x-kansui-signature']).startsWith('sha256='))).toBe(true);
    const ids = [(await byAddress.json()).id, (await byName.json()).id];
    const rows = (await deliveryLog(allowed, allowedStaff)).rows.filter((d) => ids.includes(d.recipient_id));
    expect(rows).toHaveLength(2);
    expect(rows.every((d) => d.ok && d.status === 204)).toBe(true);
    expect(trap.connections()).toBe(0);
  });

  it('#1 #2 the delivery log keeps the status and an error class, never the answer body (webhook and Web Push)', async () => {
    sensor(allowed, 'leak-01');
    nextMinute();
    const webhook = await addWebhook(allowed, allowedStaff, `http://127.0.0.1:${leak.port}/hook`, ['leak-01']);
    expect(webhook.status).toBe(201);
    const push = await subscribe(allowed, `http://127.0.0.1:${leak.port}/push/abc`, ['leak-01']);
    expect(push.status).toBe(201);
    const ids = [(await webhook.json()).id, (await push.json()).id];
    await raiseWarning(allowed, 'leak-01');
    expect(leak.requests.length).toBe(4); // two channels × two attempts (500 is worth retrying)
    const { text, rows } = await deliveryLog(allowed, allowedStaff);
    const mine = rows.filter((d) => ids.includes(d.recipient_id));
    expect(mine).toHaveLength(4);
    expect(mine.every((d) => d.error === 'HTTP 500' && d.status === 500 && !d.ok)).toBe(true);
    expect(new Set(mine.map((d) => d.channel))).toEqual(new Set(['webhook', 'webpush']));
    expect(text).not.toContain(SECRET_BODY);
    expect(text).not.toContain('INTERNAL');
  });

  it('#1 the same endpoint twice, however spelled, is one subscription', async () => {
    sensor(allowed, 'one-01');
    nextMinute();
    const residents = async () => (await (await fetch(`${allowed.httpUrl}/api/alert-recipients`, { headers: { Authorization: `Bearer ${allowedStaff}` } })).json()).resident_push_subscriptions;
    const before = await residents();
    const endpoint = fcm();
    const first = await subscribe(allowed, endpoint, ['one-01']);
    const again = await subscribe(allowed, endpoint, ['one-01']);
    const respelled = await subscribe(allowed, `${endpoint.replace('fcm.googleapis.com', 'FCM.GoogleAPIs.com:443')}#x`, ['one-01']);
    expect([first.status, again.status, respelled.status]).toEqual([201, 201, 201]);
    expect(await residents()).toBe(before + 1);
    expect(allowed.alerting.residentCount()).toBe(before + 1);
    expect(await metric(allowed, 'kansui_push_subscriptions')).toBe(before + 1);
  });

  it('#1 a global cap on resident subscriptions: beyond it 503 with a JSON error and the metrics move; a known endpoint still renews, and a freed place is taken again', async () => {
    nextMinute();
    const held: string[] = [];
    while (k.alerting.residentCount() < 4) {
      const endpoint = fcm();
      expect((await subscribe(k, endpoint, ['px-01'])).status).toBe(201);
      held.push(endpoint);
    }
    expect(await metric(k, 'kansui_push_subscriptions')).toBe(4);
    const full = await subscribe(k, fcm(), ['px-01']);
    expect(full.status).toBe(503);
    expect(full.headers.get('content-type')).toMatch(/application\/json/);
    expect((await full.json()).error).toMatchObject({ code: 'subscriptions_full' });
    expect(await metric(k, 'kansui_push_subscriptions_refused_total{reason="cap"}')).toBe(1);
    expect(await metric(k, 'kansui_push_subscriptions')).toBe(4);
    // A browser renewing its own subscription is not a new one.
    expect((await subscribe(k, held[0] as string, ['px-01'])).status).toBe(201);
    expect(k.alerting.residentCount()).toBe(4);
    // Unsubscribing frees a place.
    const del = await fetch(`${k.httpUrl}/api/push/subscriptions`, { method: 'DELETE', headers: { 'Content-Type': 'application/json', Origin: k.httpUrl }, body: JSON.stringify({ endpoint: held[1] }) });
    expect(del.status).toBe(204);
    expect((await subscribe(k, fcm(), ['px-01'])).status).toBe(201);
    expect(await metric(k, 'kansui_push_subscriptions')).toBe(4);
  });

  it('operator-set targets obey the same policy and fail at start, naming the variable; the allow list and push hosts are validated', () => {
    const secret = { ALERT_WEBHOOK_SECRET: '0123456789abcdef' };
    expect(() => loadConfig({ ALERT_WEBHOOK_URLS: 'http://127.0.0.1:8086/write', ...secret })).toThrow(/ALERT_WEBHOOK_URLS: refused/);
    expect(() => loadConfig({ ALERT_WEBHOOK_URLS: 'http://localhost:8086/write', ...secret })).toThrow(/ALERT_WEBHOOK_URLS/);
    expect(loadConfig({ ALERT_WEBHOOK_URLS: 'http://127.0.0.1:8086/write', ALERT_ALLOW_PRIVATE_TARGETS: '127.0.0.1:8086', ...secret }).ALERT_WEBHOOK_URLS).toEqual(['http://127.0.0.1:8086/write']);
    expect(() => loadConfig({ LINE_API_BASE: 'http://169.254.169.254' })).toThrow(/LINE_API_BASE/);
    expect(() => loadConfig({ SMTP_URL: 'smtp://127.1:25' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ ALERT_ALLOW_PRIVATE_TARGETS: '10.0.0.0/8, not a host' })).toThrow(/ALERT_ALLOW_PRIVATE_TARGETS: "not a host"/);
    expect(() => loadConfig({ PUSH_ALLOWED_HOSTS: 'fcm.googleapis.com, ::bad' })).toThrow(/PUSH_ALLOWED_HOSTS/);
    expect(() => loadConfig({ PUSH_MAX_SUBSCRIPTIONS: '-1' })).toThrow(/PUSH_MAX_SUBSCRIPTIONS/);
    expect(loadConfig({}).PUSH_MAX_SUBSCRIPTIONS).toBe(100_000);
  });
});
