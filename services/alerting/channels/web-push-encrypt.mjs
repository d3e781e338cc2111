// Plain JavaScript (ES module) on purpose: the same file runs in the service
// and, unchanged, inside the encryption worker threads
// (./web-push-encrypt-pool.ts), which Node starts without any TypeScript loader.
// Types: ./web-push-encrypt.d.mts.
import { createCipheriv, createECDH, createHmac, randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

/** RFC 8188 §2: record size field; one record holds any push message (≤ 4 KiB, RFC 8291 §4). */
const RECORD_SIZE = 4096;
const INFO_KEY = Buffer.from('WebPush: info\0');
const INFO_CEK = Buffer.from('Content-Encoding: aes128gcm\0\x01');
const INFO_NONCE = Buffer.from('Content-Encoding: nonce\0\x01');
const ONE = Buffer.from([1]);
const DELIMITER = Buffer.from([2]);

/**
 * One ECDH object, re-keyed for every message (`generateKeys()` makes a new
 * key pair each call), saves constructing one per message; salts come from a
 * pooled random buffer, each 16 bytes used once. Both are hot-path savings for
 * fan-outs; neither reuses key material.
 */
const ecdh = createECDH('prime256v1');
let saltPool = Buffer.alloc(0);
let saltAt = 0;
function nextSalt() {
  if (saltAt + 16 > saltPool.length) {
    saltPool = randomBytes(16 * 1024);
    saltAt = 0;
  }
  const salt = saltPool.subarray(saltAt, saltAt + 16);
  saltAt += 16;
  return salt;
}

function hmac(key, ...data) {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/**
 * Encrypt a push message for one subscription: aes128gcm content coding
 * (RFC 8188) with the Web Push key derivation (RFC 8291 §3.3–3.4), one
 * record, a fresh ECDH key pair and a fresh 16-byte salt for every message.
 *
 * Written directly on node:crypto because it is the hot path of a fan-out to
 * thousands of residents: the `web-push` package's `encrypt` (via http_ece)
 * measured about 1 ms a message here, this about a third of that, most of it
 * the one ECDH agreement per subscriber that RFC 8291 requires. The test push
 * service decrypts it with an independent implementation
 * (test/helpers/alert-receivers.ts).
 *
 * @param {Buffer} payload
 * @param {string} p256dh subscription key, base64url
 * @param {string} auth subscription auth secret, base64url
 * @returns {Buffer}
 */
export function encryptWebPush(payload, p256dh, auth) {
  const uaPublic = Buffer.from(p256dh, 'base64url');
  const authSecret = Buffer.from(auth, 'base64url');
  if (uaPublic.length !== 65 || uaPublic[0] !== 4) throw new Error('p256dh must be an uncompressed P-256 point (65 bytes)');
  if (authSecret.length < 16) throw new Error('auth secret must be at least 16 bytes');
  if (payload.length > RECORD_SIZE - 16 - 1 - 86) throw new Error('payload too large for one push record');
  const asPublic = ecdh.generateKeys();
  const ecdhSecret = ecdh.computeSecret(uaPublic);
  const salt = nextSalt();
  // RFC 8291 §3.4: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
  const prkKey = hmac(authSecret, ecdhSecret);
  const ikm = hmac(prkKey, INFO_KEY, uaPublic, asPublic, ONE);
  // RFC 8188 §2.2–2.3: CEK and NONCE from HKDF(salt, IKM).
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, INFO_CEK).subarray(0, 16);
  const nonce = hmac(prk, INFO_NONCE).subarray(0, 12);
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  const body = Buffer.concat([cipher.update(payload), cipher.update(DELIMITER), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(21);
  salt.copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header[20] = asPublic.length;
  return Buffer.concat([header, asPublic, body]);
}

// As a worker thread: encrypt batches [{id, payload, p256dh, auth}] → [{id, body} | {id, error}].
if (parentPort && workerData?.role === 'kansui-web-push-encrypt') {
  const port = parentPort;
  port.on('message', (batch) => {
    const out = [];
    const transfer = [];
    for (const job of batch) {
      try {
        const body = encryptWebPush(Buffer.from(job.payload), job.p256dh, job.auth);
        const copy = new Uint8Array(body);
        out.push({ id: job.id, body: copy });
        transfer.push(copy.buffer);
      } catch (err) {
        out.push({ id: job.id, error: err.message });
      }
    }
    port.postMessage(out, transfer);
  });
}
