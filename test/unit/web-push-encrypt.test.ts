import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encryptWebPush, sealWebPush } from '../../services/alerting/channels/web-push-encrypt.mjs';
import { createPreparedKeys } from '../../services/alerting/channels/web-push-keys.ts';
import { createEncryptPool } from '../../services/alerting/channels/web-push-encrypt-pool.ts';
import { decryptWebPush } from '../helpers/alert-receivers.ts';
import { waitFor } from '../helpers/wait.ts';

function subscriber() {
  const ecdh = createECDH('prime256v1');
  const publicKey = ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ua: { ecdh, publicKey, auth }, p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') };
}

describe('Web Push payload encryption (RFC 8291 aes128gcm)', () => {
  it('decrypts with the subscriber keys; a fresh sender key and salt every message', () => {
    const s = subscriber();
    const payload = Buffer.from(JSON.stringify({ title: '【危険】打田駅前アンダーパス 31 cm' }));
    const a = encryptWebPush(payload, s.p256dh, s.auth);
    const b = encryptWebPush(payload, s.p256dh, s.auth);
    expect(decryptWebPush(a, s.ua).toString('utf8')).toBe(payload.toString('utf8'));
    expect(decryptWebPush(b, s.ua).equals(payload)).toBe(true);
    expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false); // salt
    expect(a.subarray(21, 86).equals(b.subarray(21, 86))).toBe(false); // sender public key
    expect(() => decryptWebPush(a, subscriber().ua)).toThrow();
    expect(() => encryptWebPush(payload, 'AAAA', s.auth)).toThrow(/p256dh/);
  });

  it('the worker pool and the in-thread fallback prepare keys the subscriber can decrypt with, urgent or in the background', async () => {
    for (const workers of [0, 2]) {
      const pool = createEncryptPool({ workers });
      const subs = Array.from({ length: 100 }, subscriber);
      const keys = await Promise.all(subs.map((s, i) => pool.prepare(s.p256dh, s.auth, { urgent: i % 2 === 0 })));
      keys.forEach((key, i) => expect(decryptWebPush(sealWebPush(key, Buffer.from(`notice ${i}`)), subs[i]!.ua).toString('utf8')).toBe(`notice ${i}`));
      await expect(pool.prepare('bad', subs[0]!.auth)).rejects.toThrow(/p256dh/);
      await expect(pool.prepare('bad', subs[0]!.auth, { urgent: false })).rejects.toThrow(/p256dh/);
      await pool.close();
    }
  });

  it('prepared keys: each is taken once, used keys are replaced after a quiet spell, forgotten subscriptions are dropped', async () => {
    const pool = createEncryptPool({ workers: 1 });
    const prepared = createPreparedKeys({ pool, depth: 2, refillDelayMs: 10 });
    const subs = Array.from({ length: 20 }, subscriber);
    const keysOf = (s: ReturnType<typeof subscriber>) => ({ p256dh: s.p256dh, auth: s.auth });
    expect(prepared.take(keysOf(subs[0]!))).toBeUndefined(); // unknown subscription: the caller prepares its own
    prepared.warm(subs.map(keysOf));
    await waitFor(() => prepared.stats().keys === 40);
    const a = prepared.take(keysOf(subs[0]!))!;
    const b = prepared.take(keysOf(subs[0]!))!;
    expect(prepared.take(keysOf(subs[0]!))).toBeUndefined(); // stock used up, nothing handed out twice
    expect(Buffer.from(a).subarray(0, 86).equals(Buffer.from(b).subarray(0, 86))).toBe(false); // own salt and sender key
    const payload = Buffer.from('【危険】打田駅前アンダーパス 31 cm');
    expect(decryptWebPush(sealWebPush(a, payload), subs[0]!.ua).equals(payload)).toBe(true);
    expect(decryptWebPush(sealWebPush(b, payload), subs[0]!.ua).equals(payload)).toBe(true);
    await waitFor(() => prepared.stats().keys === 40); // refilled
    prepared.forget(keysOf(subs[1]!));
    expect(prepared.stats()).toEqual({ subscriptions: 19, keys: 38 });
    prepared.warm([{ p256dh: 'A'.repeat(87), auth: subs[2]!.auth }]); // not a P-256 point: dropped, not kept
    await waitFor(() => prepared.stats().subscriptions === 19);
    prepared.close();
    await pool.close();
  });
});
