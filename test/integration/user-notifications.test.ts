import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inQuietHours } from '../../services/core/user-notifications.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import { startPushService, startSmtpReceiver } from '../helpers/alert-receivers.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const hhmm = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);

/**
 * Issue 13: each member of staff chooses channels, sensors or areas, the
 * lowest severity and quiet hours that 危険 overrides; admins see and set
 * everyone's. Delivered over a real SMTP server on loopback.
 */
describe('per-user notification preferences', () => {
  let k: TestKansui;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  const tokens: Record<string, string> = {};
  let t = Date.now() - 60 * MIN;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    k = await startTestKansui({ SMTP_URL: smtp.url, ALERT_ALLOW_PRIVATE_TARGETS: new URL(smtp.url).host, ALERT_HOLD_S: '0', ALERT_REMIND_S: '0' }, { sweepMs: 60_000, alerting: { retry: { baseDelayMs: 50 } } });
    for (const [name, role] of [['sato', 'staff'], ['suzuki', 'staff'], ['tech', 'technician'], ['boss', 'admin']] as const) tokens[name] = k.users.issueToken(k.users.create(name, role, null).id).token;
    registerSensor(k.registry, { id: 'n-uchita', name: '打田駅前アンダーパス', address: '紀の川市打田1', lat: 34.27, lon: 135.39, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'n-kokawa', name: '粉河駅東', address: '紀の川市粉河2', lat: 34.28, lon: 135.41, intervalS: 3600 }, Date.now());
  });
  afterAll(async () => {
    await k?.dispose();
    await smtp?.close();
  });

  const put = (who: string, path: string, body: unknown) =>
    fetch(`${k.httpUrl}${path}`, { method: 'PUT', headers: { Authorization: `Bearer ${tokens[who]}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const level = async (id: string, cm: number) => {
    t += MIN;
    await k.ingest.submit(id, Buffer.from(JSON.stringify({ ts: t, level_cm: cm })));
  };
  const mailTo = (addr: string) => smtp.received.filter((m) => String(m.headers['envelope-to']).includes(addr));

  it('sends what each person chose: areas, minimum severity, quiet hours broken only by 危険', async () => {
    const now = Date.now();
    const quiet = { start: hhmm(now - 60 * MIN), end: hhmm(now + 60 * MIN) };
    expect(inQuietHours(now, quiet, 'Asia/Tokyo')).toBe(true);
    // sato: 危険 only, in 打田 only.
    let res = await put('sato', '/api/me/notifications', { email: 'sato@city.test', areas: ['打田'], min_severity: 'danger' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { prefs: { areas: string[] } }).prefs.areas).toEqual(['打田']);
    // suzuki: everything from 注意, but it is their quiet hours now.
    expect((await put('suzuki', '/api/me/notifications', { email: 'suzuki@city.test', min_severity: 'caution', quiet_hours: quiet })).status).toBe(200);
    expect((await put('suzuki', '/api/me/notifications', { line: 'Uabc' })).status).toBe(400); // LINE is not configured here

    await level('n-kokawa', 0);
    await level('n-kokawa', 24); // 警戒 at 粉河: sato (打田, 危険 only) no; suzuki quiet
    await level('n-uchita', 0);
    await level('n-uchita', 12); // 注意 at 打田: sato no (min 危険); suzuki quiet
    await k.alerting.idle();
    expect(mailTo('sato@city.test')).toEqual([]);
    expect(mailTo('suzuki@city.test')).toEqual([]);

    await level('n-uchita', 33); // 危険 at 打田: both, quiet hours or not
    await waitFor(() => mailTo('sato@city.test').length >= 1 && mailTo('suzuki@city.test').length >= 1, { what: 'the 危険 mails' });
    await k.alerting.idle();
    expect(mailTo('sato@city.test').map((m) => m.text)).toEqual([expect.stringContaining('【危険】打田駅前アンダーパス')]);
    expect(mailTo('suzuki@city.test').map((m) => m.text)).toEqual([expect.stringContaining('【危険】打田駅前アンダーパス')]);
    await level('n-kokawa', 40); // 危険 at 粉河: suzuki yes (every sensor), sato no (not in 打田)
    await waitFor(() => mailTo('suzuki@city.test').length >= 2, { what: 'suzuki hears about 粉河' });
    await k.alerting.idle();
    expect(mailTo('sato@city.test')).toHaveLength(1);
  });

  it('admins see and set everyone’s; others may only set their own; changes are audited in words', async () => {
    expect((await put('tech', '/api/users/sato/notifications', { min_severity: 'caution' })).status).toBe(403);
    expect((await put('boss', '/api/users/nobody/notifications', {})).status).toBe(404);
    expect((await put('boss', '/api/users/sato/notifications', { email: 'sato@city.test', min_severity: 'warning' })).status).toBe(200);
    const all = (await (await fetch(`${k.httpUrl}/api/users/notifications`, { headers: { Authorization: `Bearer ${tokens.boss}` } })).json()) as { users: { username: string; custom: boolean; prefs: { min_severity: string } }[] };
    expect(all.users.find((u) => u.username === 'sato')).toMatchObject({ custom: true, prefs: { min_severity: 'warning' } });
    expect(all.users.find((u) => u.username === 'tech')).toMatchObject({ custom: false });
    expect((await fetch(`${k.httpUrl}/api/users/notifications`, { headers: { Authorization: `Bearer ${tokens.sato}` } })).status).toBe(403);
    const me = (await (await fetch(`${k.httpUrl}/api/me/notifications`, { headers: { Authorization: `Bearer ${tokens.sato}` } })).json()) as { prefs: { min_severity: string }; channels: Record<string, boolean> };
    expect(me.prefs.min_severity).toBe('warning');
    // Web Push is on out of the box (issue 12: a key pair generated into DATA_DIR).
    expect(me.channels).toEqual({ email: true, line: false, webpush: true });
    const { entries } = (await (await fetch(`${k.httpUrl}/api/audit?limit=10`, { headers: { Authorization: `Bearer ${tokens.boss}` } })).json()) as { entries: { action: string; words: { en: string } }[] };
    expect(entries.find((e) => e.action === 'user.notifications')?.words.en).toMatch(/^boss changed sato's notification preferences \(warning and above\) at \d\d:\d\d$/);
    // In force as a recipient of the alert runner.
    expect(k.alerting.recipients().some((r) => r.id === 'user:sato:email')).toBe(true);
  });

  it('Web Push for staff: this browser’s subscription is kept when a later change leaves it out, and used', async () => {
    const vapid = generateVapidKeys();
    const push = await startPushService({ vapidPublicKey: vapid.publicKey });
    const k2 = await startTestKansui({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOWED_HOSTS: push.url, ALERT_ALLOW_PRIVATE_TARGETS: new URL(push.url).host, ALERT_HOLD_S: '0', ALERT_REMIND_S: '0' }, { sweepMs: 60_000, alerting: { retry: { baseDelayMs: 50 } } });
    try {
      const token = k2.users.issueToken(k2.users.create('kato', 'staff', null).id).token;
      registerSensor(k2.registry, { id: 'wp-01', name: '打田駅前アンダーパス', lat: 34.27, lon: 135.39, intervalS: 3600 }, Date.now());
      const me = (body: unknown) => fetch(`${k2.httpUrl}/api/me/notifications`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const sub = push.subscribe();
      let res = await me({ webpush: sub, min_severity: 'danger' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { prefs: { webpush: unknown } }).prefs.webpush).toEqual({ subscribed: true, origin: new URL(push.url).origin });
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      // A later change from another browser (no subscription in the body) keeps it.
      expect((await me({ min_severity: 'warning' })).status).toBe(200);
      expect(k2.alerting.recipients().find((r) => r.id === 'user:kato:webpush')).toMatchObject({ minSeverity: 'warning', target: sub.endpoint });
      let ts = Date.now() - 10 * MIN;
      for (const level_cm of [0, 24]) await k2.ingest.submit('wp-01', Buffer.from(JSON.stringify({ ts: (ts += MIN), level_cm })));
      await push.waitForCount(1);
      expect(push.received[0]?.json.title).toMatch(/^【警戒】打田駅前アンダーパス/);
      expect(push.failures()).toBe(0);
      // Removed on request; and when the push service says the subscription is gone (410), it is forgotten.
      expect((await me({ webpush: null, min_severity: 'warning' })).status).toBe(200);
      expect(k2.alerting.recipients().some((r) => r.id === 'user:kato:webpush')).toBe(false);
      const again = push.subscribe();
      expect((await me({ webpush: again, min_severity: 'warning' })).status).toBe(200);
      push.expire(again.endpoint);
      for (const level_cm of [33]) await k2.ingest.submit('wp-01', Buffer.from(JSON.stringify({ ts: (ts += MIN), level_cm })));
      await waitFor(() => !k2.alerting.recipients().some((r) => r.id === 'user:kato:webpush'), { what: 'the gone subscription to be dropped' });
      const stored = (await (await fetch(`${k2.httpUrl}/api/me/notifications`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { prefs: { webpush: unknown; min_severity: string } };
      expect(stored.prefs).toMatchObject({ webpush: null, min_severity: 'warning' });
    } finally {
      await k2.dispose();
      await push.close();
    }
  });
});
