import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encryptWebPush } from '../../services/alerting/channels/web-push-encrypt.mjs';
import { createEncryptPool } from '../../services/alerting/channels/web-push-encrypt-pool.ts';
import { decryptWebPush } from '../helpers/alert-receivers.ts';

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

  it('the worker pool and the in-thread fallback give messages the subscriber can decrypt, in any number', async () => {
    for (const workers of [0, 2]) {
      const pool = createEncryptPool({ workers });
      const subs = Array.from({ length: 100 }, subscriber);
      const bodies = await Promise.all(subs.map((s, i) => pool.encrypt(Buffer.from(`notice ${i}`), s.p256dh, s.auth)));
      bodies.forEach((body, i) => expect(decryptWebPush(body, subs[i]!.ua).toString('utf8')).toBe(`notice ${i}`));
      await expect(pool.encrypt(Buffer.from('x'), 'bad', subs[0]!.auth)).rejects.toThrow(/p256dh/);
      await pool.close();
    }
  });
});
