import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookChannel } from '../../services/alerting/channels/webhook.ts';
import { createWebPushChannel, generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import { createOutboundGuard, type HostLookup } from '../../services/alerting/outbound.ts';
import type { AlertChannel, Recipient } from '../../services/core/alerts/channel.ts';
import { parseAllowList, type AllowRule } from '../../services/core/outbound-policy.ts';
import { sampleNotice } from '../contract/alert-channel.contract.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { startPushService } from '../helpers/alert-receivers.ts';

/**
 * The outbound guard resolves a name itself and connects to the address it
 * checked (issue 10: no DNS rebinding between check and connect). That must
 * not cost TLS its point: the certificate is still verified for the name in
 * the URL, over a real TLS server on loopback.
 */
describe('outbound guard over TLS: connects to the checked address, verifies the certificate for the URL name', () => {
  const tmp = makeTempDir('kansui-tls-');
  let server: Server;
  let port: number;
  let ca: string;
  const received: { host: string | undefined; url: string | undefined }[] = [];
  const lookup: HostLookup = async (hostname) => {
    if (hostname === 'push.test' || hostname === 'other.test') return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  };
  const channels: AlertChannel[] = [];
  const vapid = generateVapidKeys();
  let sub: Awaited<ReturnType<Awaited<ReturnType<typeof startPushService>>['subscribe']>>;
  let keysFrom: Awaited<ReturnType<typeof startPushService>>;

  beforeAll(async () => {
    // A certificate for push.test only (OpenSSL from Debian; one day, throwaway).
    const key = join(tmp.dir, 'key.pem');
    const cert = join(tmp.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=push.test', '-addext', 'subjectAltName=DNS:push.test'], { stdio: 'ignore' });
    ca = readFileSync(cert, 'utf8');
    server = createServer({ key: readFileSync(key), cert: ca }, (req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({ host: req.headers.host, url: req.url });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    // Only for a subscription's keys (a valid P-256 point and auth secret); its own endpoint is not used.
    keysFrom = await startPushService();
    sub = keysFrom.subscribe();
  });
  afterAll(async () => {
    for (const c of channels) await c.close?.();
    await new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
    await keysFrom?.close();
    tmp.remove();
  });

  const rules = (parseAllowList('push.test, other.test') as { rules: AllowRule[] }).rules;
  const common = { sensors: ['*'], minSeverity: 'caution' as const, kinds: ['flood' as const], lang: 'ja' as const };
  const webhookTo = (url: string): Recipient => ({ ...common, id: 'r-hook', channel: 'webhook', target: url, source: 'api' });
  const pushTo = (url: string): Recipient => ({ ...common, id: 'r-push', channel: 'webpush', target: url, subscription: { ...sub, endpoint: url }, source: 'resident' });
  function make(withCa: boolean) {
    const outbound = createOutboundGuard({ rules, lookup, ...(withCa && { ca }) });
    const webhook = createWebhookChannel({ timeZone: 'Asia/Tokyo', defaultSecret: 'tls-test-secret-0123', outbound });
    const push = createWebPushChannel({ ...vapid, subject: 'mailto:bousai@city.test' }, { outbound, encryptWorkers: 0 });
    channels.push(webhook, push);
    return { webhook, push };
  }
  const signal = () => AbortSignal.timeout(10_000);

  it('with the issuer trusted, webhook and Web Push are delivered to the name, TLS and Host intact', async () => {
    const { webhook, push } = make(true);
    expect(await webhook.send(sampleNotice(), webhookTo(`https://push.test:${port}/hook`), signal())).toMatchObject({ ok: true, status: 201 });
    expect(await push.send(sampleNotice(), pushTo(`https://push.test:${port}/push/1`), signal())).toMatchObject({ ok: true, status: 201 });
    expect(received).toEqual([
      { host: `push.test:${port}`, url: '/hook' },
      { host: `push.test:${port}`, url: '/push/1' },
    ]);
  });

  it('a certificate for another name is refused (the name in the URL is what TLS checks, not the address connected to)', async () => {
    const before = received.length;
    const { webhook, push } = make(true);
    expect(await webhook.send(sampleNotice(), webhookTo(`https://other.test:${port}/hook`), signal())).toMatchObject({ ok: false, error: 'tls_error' });
    expect(await push.send(sampleNotice(), pushTo(`https://other.test:${port}/push/1`), signal())).toMatchObject({ ok: false, error: 'tls_error' });
    expect(received.length).toBe(before);
  });

  it('an untrusted issuer is refused', async () => {
    const before = received.length;
    const { webhook, push } = make(false);
    expect(await webhook.send(sampleNotice(), webhookTo(`https://push.test:${port}/hook`), signal())).toMatchObject({ ok: false, error: 'tls_error' });
    expect(await push.send(sampleNotice(), pushTo(`https://push.test:${port}/push/1`), signal())).toMatchObject({ ok: false, error: 'tls_error' });
    expect(received.length).toBe(before);
  });
});
