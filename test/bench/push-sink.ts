/**
 * A loopback Web Push service in its own process for the alerts benchmark, so
 * the service under test does not share its event loop with the receiver.
 * Protocol over IPC: parent sends {subscribers: n}; child answers
 * {port, subscriptions: [...]} (P-256 keys + auth generated here, as browsers
 * do); then {expect: n} → child answers {arrivals: [epoch ms…], decrypted, failed}
 * once n pushes arrived. Every 100th payload is decrypted (RFC 8291) to prove it is real.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decryptWebPush, verifyVapid } from '../helpers/alert-receivers.ts';

const keys = new Map<string, { ecdh: ReturnType<typeof createECDH>; publicKey: Buffer; auth: Buffer }>();
let arrivals: number[] = [];
let expected = Infinity;
let decrypted = 0;
let failed = 0;
let origin = '';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    arrivals.push(performance.timeOrigin + performance.now());
    const id = req.url?.split('/').pop() ?? '';
    const sub = keys.get(id);
    if (sub) {
      try {
        JSON.parse(decryptWebPush(Buffer.concat(chunks), sub).toString('utf8'));
        if (!verifyVapid(req.headers.authorization, origin).ok) throw new Error('vapid');
        decrypted++;
      } catch {
        failed++;
      }
    }
    res.writeHead(201).end();
    if (arrivals.length >= expected) {
      process.send?.({ arrivals, decrypted, failed });
      expected = Infinity;
    }
  });
});
server.keepAliveTimeout = 30_000;

process.on('message', (m: { subscribers?: number; expect?: number }) => {
  if (m.subscribers !== undefined) {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      origin = `http://127.0.0.1:${port}`;
      const subscriptions = [];
      for (let i = 0; i < (m.subscribers as number); i++) {
        const ecdh = createECDH('prime256v1');
        const publicKey = ecdh.generateKeys();
        const auth = randomBytes(16);
        if (i % 100 === 0) keys.set(`s${i}`, { ecdh, publicKey, auth });
        subscriptions.push({ endpoint: `${origin}/push/s${i}`, keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } });
      }
      process.send?.({ port, subscriptions });
    });
  }
  if (m.expect !== undefined) {
    arrivals = [];
    decrypted = 0;
    failed = 0;
    expected = m.expect;
  }
});
process.on('disconnect', () => process.exit(0));
