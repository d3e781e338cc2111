import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startPushService } from '../helpers/alert-receivers.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';

const run = promisify(execFile);
const XSD = fileURLToPath(new URL('../fixtures/cap/CAP-v1.2.xsd', import.meta.url));
const MIN = 60_000;

/** Validate with xmllint (Debian libxml2-utils): against the CAP 1.2 XSD, or only well-formedness. */
async function xmllint(xml: string, dir: string, schema?: string): Promise<{ ok: boolean; output: string }> {
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    const r = await run('xmllint', ['--noout', ...(schema ? ['--schema', schema] : []), file]);
    return { ok: true, output: r.stderr };
  } catch (err) {
    return { ok: false, output: (err as { stderr?: string }).stderr ?? String(err) };
  }
}

describe('alerts HTTP API, CAP and Atom feeds, push subscriptions', () => {
  let k: TestKansui;
  let push: Awaited<ReturnType<typeof startPushService>>;
  const tmp = makeTempDir('kansui-cap-');
  let staff: string;
  let technician: string;
  const vapid = generateVapidKeys();

  beforeAll(async () => {
    push = await startPushService({ vapidPublicKey: vapid.publicKey });
    // The test push service is plain http on loopback: opted in as an operator would an internal push relay (issue 10).
    const pushHost = new URL(push.url).host;
    k = await startTestKansui(
      { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOWED_HOSTS: push.url, ALERT_ALLOW_PRIVATE_TARGETS: pushHost },
      { sweepMs: 60_000 },
    );
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    technician = k.users.issueToken(k.users.create('suzuki', 'technician', null).id).token;
    registerSensor(k.registry, { id: 'cap-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.2711, lon: 135.3952, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'river-01', name: '紀の川 船戸', nameEn: 'Kinokawa, Funato', lat: 34.26, lon: 135.36, intervalS: 3600 }, Date.now());
  });
  afterAll(async () => {
    await k?.dispose();
    await push?.close();
    tmp.remove();
  });

  const submit = (id: string, ts: number, level_cm: number) => k.ingest.submit(id, Buffer.from(JSON.stringify({ ts, level_cm })));
  const auth = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });

  it('serves an empty CAP message that validates against the OASIS CAP 1.2 schema', async () => {
    const res = await fetch(`${k.httpUrl}/api/alerts.cap`);
    expect(res.headers.get('content-type')).toMatch(/application\/cap\+xml/);
    const xml = await res.text();
    expect(xml).toContain('<note>');
    const v = await xmllint(xml, tmp.dir, XSD);
    expect(v.output).toContain('validates');
    expect(v.ok).toBe(true);
  });

  it('active alerts as CAP 1.2: one <info> per language with a circle around the sensor; valid per the XSD; Atom links each', async () => {
    const t0 = Date.now() - 60 * MIN;
    await submit('cap-01', t0, 2);
    await submit('cap-01', t0 + 10 * MIN, 24);
    // River preset with MLIT level names, applied by a technician.
    const put = await fetch(`${k.httpUrl}/api/sensors/river-01/alert-settings`, {
      method: 'PUT',
      headers: auth(technician),
      body: JSON.stringify({ preset: 'river_channel', thresholds: { caution: 300, warning: 350, danger: 400 }, standby_cm: 250 }),
    });
    expect(put.status).toBe(200);
    // Steps under the 50 cm spike limit, so no reading is held for confirmation.
    for (const [i, cm] of [280, 320, 360, 402].entries()) await submit('river-01', t0 + i * 10 * MIN, cm);

    const xml = await (await fetch(`${k.httpUrl}/api/alerts.cap`)).text();
    const v = await xmllint(xml, tmp.dir, XSD);
    expect(v.output).toContain('validates');
    expect(v.ok).toBe(true);
    expect(xml.match(/<info>/g)).toHaveLength(4);
    expect(xml.match(/<language>ja-JP<\/language>/g)).toHaveLength(2);
    expect(xml.match(/<language>en-US<\/language>/g)).toHaveLength(2);
    expect(xml).toContain('<circle>34.2711,135.3952 0.1</circle>');
    expect(xml).toContain('<circle>34.26,135.36 1</circle>');
    expect(xml).toContain('<value>氾濫危険水位</value>');
    expect(xml).toContain('<value>Flood danger level</value>');
    expect(xml).toContain('<severity>Moderate</severity>');
    expect(xml).toContain('<severity>Severe</severity>');
    expect(xml).toMatch(/<sent>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00<\/sent>/);

    const active = (await (await fetch(`${k.httpUrl}/api/alerts?active=true`)).json()).alerts;
    const capAlert = active.find((a: any) => a.sensor_id === 'cap-01');
    expect(capAlert).toMatchObject({ kind: 'flood', severity: 'warning', level_name: '警戒', level_name_en: 'Warning' });
    const one = await (await fetch(`${k.httpUrl}/api/alerts/${capAlert.id}/cap`)).text();
    expect((await xmllint(one, tmp.dir, XSD)).ok).toBe(true);

    const atomRes = await fetch(`${k.httpUrl}/api/alerts.atom`);
    expect(atomRes.headers.get('content-type')).toMatch(/application\/atom\+xml/);
    const atom = await atomRes.text();
    expect((await xmllint(atom, tmp.dir)).ok).toBe(true);
    expect(atom.match(/<entry>/g)).toHaveLength(2);
    expect(atom).toContain(`/api/alerts/${capAlert.id}/cap`);

    const settings = await (await fetch(`${k.httpUrl}/api/sensors/river-01/alert-settings`)).json();
    expect(settings).toMatchObject({ preset: 'river_channel', standby_cm: 250, thresholds: { caution: 300, warning: 350, danger: 400 } });
    expect(settings.level_names.warning.ja).toBe('避難判断水位');
  });

  it('history by time range and sensor; acknowledging needs staff, records who and when, and happens once', async () => {
    const all = (await (await fetch(`${k.httpUrl}/api/alerts?sensor=cap-01`)).json()).alerts;
    expect(all).toHaveLength(1);
    const id = all[0].id;
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await (await fetch(`${k.httpUrl}/api/alerts?from=${encodeURIComponent(future)}`)).json()).alerts.filter((a: any) => a.state === 'resolved')).toEqual([]);
    expect((await (await fetch(`${k.httpUrl}/api/alerts?to=0`)).json()).alerts).toEqual([]);
    expect((await fetch(`${k.httpUrl}/api/alerts?from=yesterday`)).status).toBe(400);
    expect((await fetch(`${k.httpUrl}/api/alerts?bogus=1`)).status).toBe(400);

    const body = JSON.stringify({ note: '現地確認に向かう' });
    expect((await fetch(`${k.httpUrl}/api/alerts/${id}/ack`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status).toBe(401);
    expect((await fetch(`${k.httpUrl}/api/alerts/${id}/ack`, { method: 'POST', headers: auth(technician), body })).status).toBe(403);
    expect((await fetch(`${k.httpUrl}/api/alerts/nope/ack`, { method: 'POST', headers: auth(staff), body })).status).toBe(404);
    expect((await fetch(`${k.httpUrl}/api/alerts/${id}/ack`, { method: 'POST', headers: auth(staff), body: JSON.stringify({ note: 5 }) })).status).toBe(400);
    const ok = await fetch(`${k.httpUrl}/api/alerts/${id}/ack`, { method: 'POST', headers: auth(staff), body });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ state: 'acknowledged', acknowledged_by: 'sato', ack_note: '現地確認に向かう' });
    expect((await fetch(`${k.httpUrl}/api/alerts/${id}/ack`, { method: 'POST', headers: auth(staff), body })).status).toBe(409);
    // The public sees that it was acknowledged, not by whom or the note.
    const pub = (await (await fetch(`${k.httpUrl}/api/alerts?sensor=cap-01`)).json()).alerts[0];
    expect(pub.state).toBe('acknowledged');
    expect(pub).not.toHaveProperty('acknowledged_by');
  });

  it('recipients: staff add a webhook (secret shown once), list, and cannot delete environment recipients', async () => {
    expect((await fetch(`${k.httpUrl}/api/alert-recipients`)).status).toBe(401);
    const bad = await fetch(`${k.httpUrl}/api/alert-recipients`, { method: 'POST', headers: auth(staff), body: JSON.stringify({ channel: 'email', target: 'not-an-address' }) });
    expect(bad.status).toBe(400);
    const created = await fetch(`${k.httpUrl}/api/alert-recipients`, {
      method: 'POST',
      headers: auth(staff),
      body: JSON.stringify({ channel: 'webhook', target: 'https://city.example/hooks/flood', sensors: ['cap-01'], min_severity: 'warning', label: '道路管理課' }),
    });
    expect(created.status).toBe(201);
    const r = await created.json();
    expect(r.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const list = await (await fetch(`${k.httpUrl}/api/alert-recipients`, { headers: auth(staff) })).json();
    const listed = list.recipients.find((x: any) => x.id === r.id);
    expect(listed).toMatchObject({ channel: 'webhook', sensors: ['cap-01'], min_severity: 'warning', label: '道路管理課' });
    expect(listed).not.toHaveProperty('secret');
    expect((await fetch(`${k.httpUrl}/api/alert-recipients/${r.id}`, { method: 'DELETE', headers: auth(staff) })).status).toBe(204);
    expect((await fetch(`${k.httpUrl}/api/alert-recipients/${r.id}`, { method: 'DELETE', headers: auth(staff) })).status).toBe(404);
  });

  it('Web Push subscription API: key, same-origin subscribe with validation, unsubscribe by token, rate limit per address', async () => {
    expect(await (await fetch(`${k.httpUrl}/api/push/vapid-public-key`)).json()).toEqual({ key: vapid.publicKey });
    const sub = push.subscribe();
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${k.httpUrl}/api/push/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: k.httpUrl, ...headers }, body: JSON.stringify(body) });
    const good = { subscription: sub, sensors: ['cap-01'], min_status: 'warning', lang: 'en' };

    expect((await post(good, { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(good, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await post({ ...good, min_status: 'extreme' })).status).toBe(400);
    expect((await post({ ...good, subscription: { endpoint: sub.endpoint, keys: { p256dh: 'x', auth: 'y' } } })).status).toBe(400);
    expect((await post({ ...good, sensors: ['no-such-sensor'] })).status).toBe(404);
    const created = await post(good);
    expect(created.status).toBe(201);
    const { id, unsubscribe_token } = await created.json();
    expect(id).toMatch(/^ps_/);
    expect(k.alerting.recipients().filter((r) => r.source === 'resident')).toHaveLength(1);

    // A warning on cap-01 reaches this English subscriber, decrypted by the push service.
    const before = push.received.length;
    await submit('cap-01', Date.now() - 5 * MIN, 31);
    await k.alerting.idle();
    const got = push.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.json).toMatchObject({ event: 'escalated', severity: 'danger', sensor_id: 'cap-01' });
    expect(got[0]!.json.title).toBe('[DANGER] Uchita Sta. underpass 31 cm');

    const del = await fetch(`${k.httpUrl}/api/push/subscriptions`, { method: 'DELETE', headers: { 'Content-Type': 'application/json', Origin: k.httpUrl }, body: JSON.stringify({ unsubscribe_token }) });
    expect(del.status).toBe(204);
    expect(k.alerting.recipients().filter((r) => r.source === 'resident')).toHaveLength(0);

    // At most 10 writes a minute per address: keep posting until refused.
    const codes: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 11; i++) {
      const r = await post({ ...good, min_status: 'nope' });
      codes.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    const first = codes.indexOf(429);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(10);
    expect(codes.slice(0, first).every((c) => c === 400)).toBe(true);
    expect(codes.slice(first).every((c) => c === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('with Web Push switched off there is no push: 404 for the key and for subscribing', async () => {
    // Issue 12: without keys kansui generates a pair (test/integration/vapid-autogen.test.ts); VAPID_GENERATE=false keeps push off.
    const other = await startTestKansui({ VAPID_GENERATE: 'false' });
    try {
      expect((await fetch(`${other.httpUrl}/api/push/vapid-public-key`)).status).toBe(404);
      const res = await fetch(`${other.httpUrl}/api/push/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({}) });
      expect(res.status).toBe(404);
    } finally {
      await other.dispose();
    }
  });

  it('configuration names the missing variable when a channel lacks its credentials', () => {
    expect(() => loadConfig({ ALERT_WEBHOOK_URLS: 'https://a.example/h' })).toThrow(/ALERT_WEBHOOK_SECRET/);
    expect(() => loadConfig({ LINE_TO: 'U1' })).toThrow(/LINE_CHANNEL_TOKEN/);
    expect(() => loadConfig({ ALERT_EMAIL_TO: 'a@b.example' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ ALERT_WEBHOOK_URLS: 'ftp://x', ALERT_WEBHOOK_SECRET: '0123456789abcdef' })).toThrow(/ALERT_WEBHOOK_URLS/);
    const c = loadConfig({ ALERT_WEBHOOK_URLS: 'https://a.example/h, https://b.example/h', ALERT_WEBHOOK_SECRET: '0123456789abcdef', LINE_TO: 'U1,U2', LINE_CHANNEL_TOKEN: 't' });
    expect(c.ALERT_WEBHOOK_URLS).toEqual(['https://a.example/h', 'https://b.example/h']);
    expect(c.LINE_TO).toEqual(['U1', 'U2']);
    expect(c.LINE_API_BASE).toBe('https://api.line.me');
  });
});
