import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startPushService } from '../helpers/alert-receivers.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';

// Issue 12: notifications work out of the box. With no VAPID_* configured, the first start
// generates a key pair into DATA_DIR (mode 0600) and every later start uses the same one.
describe('Web Push keys generated on first start', () => {
  const data = makeTempDir('kansui-vapid-');
  /** The push service checks each VAPID signature against this key (set once kansui has made it). */
  const pushOptions: { vapidPublicKey?: string } = {};
  let push: Awaited<ReturnType<typeof startPushService>>;
  let k: TestKansui | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    push = await startPushService(pushOptions);
    env = { PUSH_ALLOWED_HOSTS: push.url, ALERT_ALLOW_PRIVATE_TARGETS: new URL(push.url).host };
  });
  afterAll(async () => {
    await k?.dispose();
    await push?.close();
    data.remove();
  });

  it('serves a generated key, keeps the pair in DATA_DIR/vapid.json (0600), signs real pushes with it and reuses it after a restart', async () => {
    k = await startTestKansui(env, { dataDir: data.dir, sweepMs: 60_000 });
    const res = await fetch(`${k.httpUrl}/api/push/vapid-public-key`);
    expect(res.status).toBe(200);
    const { key } = (await res.json()) as { key: string };
    expect(key).toMatch(/^B[A-Za-z0-9_-]{86}$/); // uncompressed P-256 point, base64url (RFC 8292 §3.2)

    const file = join(data.dir, 'vapid.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string; privateKey: string };
    expect(stored.publicKey).toBe(key);
    expect(stored.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // A resident subscribes through the real API; a danger reading reaches the push service, VAPID-verified and decrypted.
    pushOptions.vapidPublicKey = key;
    registerSensor(k.registry, { id: 'v-1', name: '打田駅前アンダーパス', lat: 34.27, lon: 135.39 }, Date.now());
    const sub = await fetch(`${k.httpUrl}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: k.httpUrl },
      body: JSON.stringify({ subscription: push.subscribe(), sensors: ['v-1'], min_status: 'danger', lang: 'ja' }),
    });
    expect(sub.status).toBe(201);
    const outcome = await k.ingest.submit('v-1', Buffer.from(JSON.stringify({ ts: Date.now(), level_cm: 35 })));
    expect(outcome.ok).toBe(true);
    const [delivered] = await push.waitForCount(1);
    expect(delivered?.text).toContain('危険');
    expect(push.failures()).toBe(0);

    await k.dispose();
    k = await startTestKansui(env, { dataDir: data.dir, sweepMs: 60_000 });
    expect(await (await fetch(`${k.httpUrl}/api/push/vapid-public-key`)).json()).toEqual({ key });
  });

  it('VAPID_GENERATE=false leaves Web Push off', async () => {
    const off = await startTestKansui({ VAPID_GENERATE: 'false' });
    try {
      expect((await fetch(`${off.httpUrl}/api/push/vapid-public-key`)).status).toBe(404);
    } finally {
      await off.dispose();
    }
  });
});
