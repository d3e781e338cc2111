import { createECDH, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { CAP_XSD, xmllint } from '../helpers/xmllint.ts';
import { makeTempDir } from '../helpers/kansui.ts';

/**
 * Issue 10 #13: behind the documented TLS proxy (docs/operations.md), the
 * client address and the public origin are read from what the proxy sets,
 * and only when TRUST_PROXY says there is such a proxy; PUBLIC_URL (or its
 * older name ALERT_PUBLIC_URL) fixes the links whatever the request says.
 */

const MIN = 60_000;
const PUBLIC_HOST = 'kansui.city.example';

/** A browser-like Web Push subscription on a public push service (never contacted: no alert is raised for it). */
function browserSubscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/${randomBytes(24).toString('base64url')}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

/** GET over loopback with any headers, Host included (fetch does not let a script set Host). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/** Every absolute URL in an XML document (attributes and element text). */
function absoluteUrls(xml: string): string[] {
  return [...xml.matchAll(/https?:\/\/[^\s"<]+/g)].map((m) => m[0]);
}

async function startWithSensor(env: Record<string, string>, clock: () => number): Promise<TestKansui> {
  const k = await startTestKansui(env, { sweepMs: 60_000, now: clock });
  registerSensor(k.registry, { id: 'px-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.2711, lon: 135.3952, intervalS: 3600 }, clock());
  return k;
}

/** Raise a warning on px-01 (readings in the past, under the spike limit). */
async function raiseWarning(k: TestKansui, at: number): Promise<string> {
  await k.ingest.submit('px-01', Buffer.from(JSON.stringify({ ts: at - 60 * MIN, level_cm: 2 })));
  await k.ingest.submit('px-01', Buffer.from(JSON.stringify({ ts: at - 50 * MIN, level_cm: 24 })));
  const active = (await (await fetch(`${k.httpUrl}/api/alerts?active=true`)).json()).alerts;
  expect(active).toHaveLength(1);
  return active[0].id as string;
}

describe('client address and public origin behind the documented proxy (issue 10 #13)', () => {
  const vapid = generateVapidKeys();
  const tmp = makeTempDir('kansui-proxy-');
  // The push limiter refills one write every 6 s; a clock that moves only when told keeps the buckets exact on a loaded machine.
  let clock = Date.now();
  const now = () => clock;
  let proxied: TestKansui;
  let direct: TestKansui;

  beforeAll(async () => {
    proxied = await startWithSensor({ TRUST_PROXY: 'true', VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }, now);
    direct = await startWithSensor({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }, now);
  });
  afterAll(async () => {
    await proxied?.dispose();
    await direct?.dispose();
    tmp.remove();
  });

  const subscribe = (k: TestKansui, body: unknown, headers: Record<string, string>) =>
    fetch(`${k.httpUrl}/api/push/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: k.httpUrl, ...headers }, body: JSON.stringify(body) });
  const good = () => ({ subscription: browserSubscription(), sensors: ['px-01'], min_status: 'warning', lang: 'ja' });
  const bad = { ...good(), min_status: 'nope' };

  /** Post bad bodies as `headers()` until the limiter answers 429; the statuses seen. */
  async function exhaust(k: TestKansui, headers: (i: number) => Record<string, string>): Promise<number[]> {
    const codes: number[] = [];
    for (let i = 0; i < 20 && codes.at(-1) !== 429; i++) codes.push((await subscribe(k, bad, headers(i))).status);
    return codes;
  }

  it('with TRUST_PROXY two residents behind the proxy get a push-subscribe bucket each: one exhausted, the other still served', async () => {
    // Resident A, as nginx passes it on (`X-Forwarded-For $remote_addr`, docs/operations.md).
    const a = await exhaust(proxied, () => ({ 'X-Forwarded-For': '203.0.113.10' }));
    expect(a.at(-1)).toBe(429);
    expect(a.slice(0, -1).every((c) => c === 400)).toBe(true);
    expect(a.length).toBe(11); // 10 a minute (docs/alerts.md)
    // A claims another address in front of the one the proxy appended: still A's bucket.
    expect((await subscribe(proxied, bad, { 'X-Forwarded-For': '198.51.100.7, 203.0.113.10' })).status).toBe(429);

    // Resident B, a neighbour on another address, is unaffected.
    expect((await subscribe(proxied, bad, { 'X-Forwarded-For': '203.0.113.20' })).status).toBe(400);
    const created = await subscribe(proxied, good(), { 'X-Forwarded-For': '198.51.100.7, 203.0.113.20' });
    expect(created.status).toBe(201);
    expect((await created.json()).id).toMatch(/^ps_/);
  });

  it('with TRUST_PROXY a resident subscribing on the public https origin is same-origin even when the proxy rewrites Host; another origin is not', async () => {
    const page = `https://${PUBLIC_HOST}`;
    const viaProxy = { Origin: page, 'Sec-Fetch-Site': 'same-origin', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': PUBLIC_HOST, 'X-Forwarded-For': '203.0.113.40' };
    expect((await subscribe(proxied, good(), viaProxy)).status).toBe(201);
    expect((await subscribe(proxied, good(), { ...viaProxy, Origin: 'https://evil.example' })).status).toBe(403);
    expect((await subscribe(proxied, good(), { ...viaProxy, Origin: `http://${PUBLIC_HOST}` })).status).toBe(403);
  });

  it('an IPv6 resident is counted per /64: another address in the same /64 is the same bucket, the next /64 is not', async () => {
    const codes = await exhaust(proxied, (i) => ({ 'X-Forwarded-For': `2001:db8:1:2::${(i + 1).toString(16)}` }));
    expect(codes.at(-1)).toBe(429);
    expect(codes.length).toBe(11);
    expect((await subscribe(proxied, bad, { 'X-Forwarded-For': '2001:db8:1:2:ffff:ffff:ffff:fffe' })).status).toBe(429);
    expect((await subscribe(proxied, bad, { 'X-Forwarded-For': '2001:db8:1:3::1' })).status).toBe(400);
  });

  it('without TRUST_PROXY a spoofed X-Forwarded-For is ignored: a fresh value per request does not buy a fresh bucket', async () => {
    const codes = await exhaust(direct, (i) => ({ 'X-Forwarded-For': `10.9.${i}.${i + 1}` }));
    expect(codes.at(-1)).toBe(429);
    expect(codes.length).toBe(11);
    expect((await subscribe(direct, good(), { 'X-Forwarded-For': '10.200.0.1' })).status).toBe(429);
  });

  it('with TRUST_PROXY the CAP and Atom links are https://<public host>/… from X-Forwarded-Proto and -Host (or Host), and valid CAP', async () => {
    clock += MIN;
    const alertId = await raiseWarning(proxied, clock);
    const viaProxy = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': PUBLIC_HOST, 'X-Forwarded-For': '203.0.113.30' };

    const atom = await get(`${proxied.httpUrl}/api/alerts.atom`, viaProxy);
    expect(atom.status).toBe(200);
    expect((await xmllint(atom.body, tmp.dir)).ok).toBe(true);
    expect(atom.body).toContain(`href="https://${PUBLIC_HOST}/api/alerts.atom"`);
    expect(atom.body).toContain(`href="https://${PUBLIC_HOST}/api/alerts/${alertId}/cap"`);
    expect(atom.body).toContain(`<id>urn:kansui:${PUBLIC_HOST}:alert:${alertId}</id>`);
    expect(absoluteUrls(atom.body).filter((u) => !u.startsWith(`https://${PUBLIC_HOST}/`) && !u.startsWith('http://www.w3.org/'))).toEqual([]);

    for (const path of ['/api/alerts.cap', `/api/alerts/${alertId}/cap`]) {
      const cap = await get(`${proxied.httpUrl}${path}`, viaProxy);
      expect(cap.status).toBe(200);
      const v = await xmllint(cap.body, tmp.dir, CAP_XSD);
      expect(v.output).toContain('validates');
      expect(cap.body).toContain(`<sender>kansui@${PUBLIC_HOST}</sender>`);
      expect(cap.body).toContain(`<web>https://${PUBLIC_HOST}/?sensor=px-01</web>`);
      expect(absoluteUrls(cap.body).filter((u) => !u.startsWith(`https://${PUBLIC_HOST}/`))).toEqual([]);
    }

    // nginx with only `proxy_set_header Host $host` and X-Forwarded-Proto.
    const hostOnly = await get(`${proxied.httpUrl}/api/alerts.atom`, { Host: PUBLIC_HOST, 'X-Forwarded-Proto': 'https' });
    expect(hostOnly.body).toContain(`href="https://${PUBLIC_HOST}/api/alerts.atom"`);
    // A forwarded host that is not a host name is not put into a link.
    const junk = await get(`${proxied.httpUrl}/api/alerts.atom`, { 'X-Forwarded-Host': 'evil.example"/><x y="', 'X-Forwarded-Proto': 'https' });
    expect(junk.body).not.toContain('evil.example');
    expect((await xmllint(junk.body, tmp.dir)).ok).toBe(true);
  });

  it('without TRUST_PROXY spoofed X-Forwarded-Proto/-Host are ignored: links stay on the address the request reached', async () => {
    const alertId = await raiseWarning(direct, clock);
    const spoof = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' };
    const atom = await get(`${direct.httpUrl}/api/alerts.atom`, spoof);
    expect(atom.body).not.toContain('evil.example');
    expect(atom.body).toContain(`href="${direct.httpUrl}/api/alerts/${alertId}/cap"`);
    const cap = await get(`${direct.httpUrl}/api/alerts/${alertId}/cap`, spoof);
    expect(cap.body).not.toContain('evil.example');
    expect(cap.body).toContain(`<web>${direct.httpUrl}/?sensor=px-01</web>`);
  });

  it('PUBLIC_URL fixes every link and the CAP sender, whatever the request or the proxy headers say; ALERT_PUBLIC_URL still works', async () => {
    const fixed = await startTestKansui({ TRUST_PROXY: 'true', PUBLIC_URL: `https://${PUBLIC_HOST}/` });
    const legacy = await startTestKansui({ ALERT_PUBLIC_URL: 'https://legacy.city.example' });
    try {
      const spoof = { 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'evil.example', Host: 'evil.example' };
      const atom = await get(`${fixed.httpUrl}/api/alerts.atom`, spoof);
      expect(atom.body).toContain(`href="https://${PUBLIC_HOST}/api/alerts.atom"`);
      expect(atom.body).not.toContain('evil.example');
      const cap = await get(`${fixed.httpUrl}/api/alerts.cap`, spoof);
      expect(cap.body).toContain(`<sender>kansui@${PUBLIC_HOST}</sender>`);
      expect((await xmllint(cap.body, tmp.dir, CAP_XSD)).ok).toBe(true);

      const old = await get(`${legacy.httpUrl}/api/alerts.atom`, {});
      expect(old.body).toContain('href="https://legacy.city.example/api/alerts.atom"');
      expect((await get(`${legacy.httpUrl}/api/alerts.cap`, {})).body).toContain('<sender>kansui@legacy.city.example</sender>');
    } finally {
      await fixed.dispose();
      await legacy.dispose();
    }
  });

  it('configuration: PUBLIC_URL must be an http(s) URL, and the two names may not disagree', () => {
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://x.example' })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ PUBLIC_URL: 'https://a.example', ALERT_PUBLIC_URL: 'https://b.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ PUBLIC_URL: 'https://a.example', ALERT_PUBLIC_URL: 'https://b.example' })).toThrow(/ALERT_PUBLIC_URL/);
    expect(loadConfig({ PUBLIC_URL: 'https://a.example/', ALERT_PUBLIC_URL: 'https://a.example' }).PUBLIC_URL).toBe('https://a.example/');
  });
});
