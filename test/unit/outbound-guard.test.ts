import { describe, expect, it } from 'vitest';
import { createWebhookChannel } from '../../services/alerting/channels/webhook.ts';
import { sampleNotice } from '../contract/alert-channel.contract.ts';
import { createOutboundGuard, describeDeliveryError, OutboundRefusedError, type HostLookup, type OutboundRefusal } from '../../services/alerting/outbound.ts';
import { parseAllowList, type AllowRule } from '../../services/core/outbound-policy.ts';

const rules = (text: string) => (parseAllowList(text) as { rules: AllowRule[] }).rules;

describe('outbound guard: what a host resolves to decides (issue 10)', () => {
  const answers: Record<string, string[]> = {
    'public.test': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    // A rebinding name often answers a public address next to an internal one.
    'mixed.test': ['93.184.215.14', '169.254.169.254'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'city.lan': ['10.1.2.3'],
  };
  const asked: string[] = [];
  const lookup: HostLookup = async (name) => {
    asked.push(name);
    const a = answers[name];
    if (!a) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  it('a public name passes with all its addresses', async () => {
    const guard = createOutboundGuard({ rules: [], lookup });
    expect(await guard.resolve('public.test', 443, 'webhook')).toHaveLength(2);
  });

  it('one internal address among the answers refuses the whole name, and says so once', async () => {
    const refusals: OutboundRefusal[] = [];
    const guard = createOutboundGuard({ rules: [], lookup, onRefused: (r) => refusals.push(r) });
    await expect(guard.resolve('mixed.test', 443, 'webpush')).rejects.toBeInstanceOf(OutboundRefusedError);
    await expect(guard.resolve('mapped.test', 80, 'webhook')).rejects.toMatchObject({ addressClass: 'loopback' });
    expect(refusals).toEqual([
      { channel: 'webpush', host: 'mixed.test', port: 443, class: 'link_local' },
      { channel: 'webhook', host: 'mapped.test', port: 80, class: 'loopback' },
    ]);
  });

  it('an address in the URL is judged without asking DNS, in any spelling', async () => {
    const guard = createOutboundGuard({ rules: [], lookup });
    asked.length = 0;
    for (const host of ['127.0.0.1', '127.1', '[::1]', '0x7f000001', '[::ffff:169.254.169.254]']) await expect(guard.resolve(host, 80, 'email')).rejects.toBeInstanceOf(OutboundRefusedError);
    expect(asked).toEqual([]);
  });

  it('the operator list opens a host, an address and port, or a network', async () => {
    expect(await createOutboundGuard({ rules: rules('city.lan:8443'), lookup }).resolve('city.lan', 8443, 'webhook')).toEqual([{ address: '10.1.2.3', family: 4 }]);
    await expect(createOutboundGuard({ rules: rules('city.lan:8443'), lookup }).resolve('city.lan', 443, 'webhook')).rejects.toBeInstanceOf(OutboundRefusedError);
    expect(await createOutboundGuard({ rules: rules('10.0.0.0/8'), lookup }).resolve('city.lan', 443, 'webhook')).toHaveLength(1);
    expect(await createOutboundGuard({ rules: rules('127.0.0.1:8086'), lookup }).resolve('mapped.test', 8086, 'webhook')).toHaveLength(1);
  });
});

describe('outbound guard: a resolver that never answers', () => {
  it('does not hold a delivery past its deadline', async () => {
    const outbound = createOutboundGuard({ rules: [], lookup: () => new Promise(() => {}) });
    const channel = createWebhookChannel({ timeZone: 'Asia/Tokyo', defaultSecret: 'secret-0123456789', outbound });
    const controller = new AbortController();
    const sent = channel.send(sampleNotice(), { id: 'r', channel: 'webhook', target: 'https://stuck.test/hook', sensors: ['*'], minSeverity: 'caution', kinds: ['flood'], lang: 'ja', source: 'api' }, controller.signal);
    controller.abort(new Error('timed out after 10000 ms'));
    await expect(sent).rejects.toThrow('timed out after 10000 ms');
    await channel.close?.();
  });
});

describe('delivery errors become classes, never the remote words', () => {
  it.each([
    [new OutboundRefusedError('loopback', 'h', 80, 'x'), 'outbound_refused:loopback'],
    [Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:22'), { code: 'ECONNREFUSED' }), 'connection_refused'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }), 'dns_failed'],
    [Object.assign(new Error('x'), { code: 'EAI_AGAIN' }), 'dns_failed'],
    [Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'timeout'],
    [Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }), 'timeout'],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'connection_reset'],
    [new Error('socket hang up'), 'connection_reset'],
    [Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }), 'unreachable'],
    [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls_error'],
    [Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls_error'],
    [new Error('<html>internal admin panel</html>'), 'network_error'],
  ])('%s → %s', (err, expected) => {
    expect(describeDeliveryError(err)).toBe(expected);
  });
});
