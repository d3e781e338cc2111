import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkPushEndpoint,
  checkTargetUrl,
  classifyAddress,
  decideOutbound,
  DEFAULT_PUSH_HOSTS,
  formatIp,
  parseAllowList,
  parseIp,
  parseIpv6,
  parsePushHosts,
  type AllowRule,
  type PushHostRule,
} from '../../services/core/outbound-policy.ts';

const rulesOf = (text: string): AllowRule[] => {
  const r = parseAllowList(text);
  if ('error' in r) throw new Error(r.error);
  return r.rules;
};
const pushHosts = (parsePushHosts(DEFAULT_PUSH_HOSTS) as { rules: PushHostRule[] }).rules;
const ip = (text: string) => parseIp(text)!;

describe('outbound policy: address classes (IANA special-purpose registries, RFC 6890)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.10', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['169.254.169.254', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['4000::1', 'reserved'],
    // IPv4 inside IPv6: classified by the IPv4 address it carries.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    // The odd IPv4 spellings the URL parser and inet_aton(3) accept.
    ['127.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0', 'unspecified'],
    ['8.8.8.8', 'public'],
    ['100.63.255.255', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001::200e', 'public'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('every spelling of an IPv4 address the WHATWG URL parser accepts means the same address here', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 3 }), (n, form) => {
        const b = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
        const text = [
          String(n),
          `0x${n.toString(16)}`,
          `${b[0]}.${(n & 0xffffff).toString()}`,
          `0${(b[0] as number).toString(8)}.0x${(b[1] as number).toString(16)}.${((b[2] as number) << 8) | (b[3] as number)}`,
        ][form] as string;
        const viaUrl = new URL(`http://${text}/`).hostname;
        expect(formatIp(ip(text))).toBe(viaUrl);
        expect(classifyAddress(text)).toBe(classifyAddress(viaUrl));
      }),
      { numRuns: 500 },
    );
  });

  it('an IPv4 address and its IPv4-mapped IPv6 form are the same class', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(classifyAddress(`::ffff:${v4}`)).toBe(classifyAddress(v4));
        expect(classifyAddress(`[::ffff:${v4}]`)).toBe(classifyAddress(v4));
      }),
      { numRuns: 500 },
    );
  });

  it('IPv6 text parses and prints as the URL parser does (RFC 5952 form)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        const bytes = parseIpv6(v6);
        expect(bytes).toBeDefined();
        expect(formatIp({ family: 6, bytes: bytes! })).toBe(new URL(`http://[${v6}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 500 },
    );
  });

  it('names are not addresses', () => {
    for (const name of ['example.com', 'localhost', '1e100.net', 'fcm.googleapis.com', '1.2.3.example']) expect(parseIp(name)).toBeUndefined();
  });
});

describe('outbound policy: decisions and the operator allow list', () => {
  const at = (host: string, port: number, address = host) => ({ host, port, address: ip(address) });

  it('public addresses pass; every other class is refused by default and says how to allow it', () => {
    expect(decideOutbound(at('8.8.8.8', 443), [])).toMatchObject({ ok: true, class: 'public' });
    const refused = decideOutbound(at('169.254.169.254', 80), []);
    expect(refused).toMatchObject({ ok: false, class: 'link_local' });
    expect(refused.ok === false && refused.reason).toMatch(/ALERT_ALLOW_PRIVATE_TARGETS/);
  });

  it('CIDR, address:port and host[:port] entries each open exactly what they name', () => {
    const rules = rulesOf('10.20.0.0/16, 127.0.0.1:8086, [::1]:9000, hooks.city.lan:8443, fd00:1::/32');
    expect(decideOutbound(at('10.20.5.6', 1), rules).ok).toBe(true);
    expect(decideOutbound(at('10.21.0.1', 1), rules).ok).toBe(false);
    expect(decideOutbound(at('127.0.0.1', 8086), rules).ok).toBe(true);
    expect(decideOutbound(at('127.0.0.1', 8087), rules).ok).toBe(false);
    expect(decideOutbound(at('::ffff:127.0.0.1', 8086), rules).ok).toBe(true);
    expect(decideOutbound(at('::1', 9000), rules).ok).toBe(true);
    expect(decideOutbound(at('::1', 9001), rules).ok).toBe(false);
    expect(decideOutbound(at('hooks.city.lan', 8443, '192.168.4.4'), rules).ok).toBe(true);
    expect(decideOutbound(at('hooks.city.lan', 443, '192.168.4.4'), rules).ok).toBe(false);
    expect(decideOutbound(at('other.city.lan', 8443, '192.168.4.4'), rules).ok).toBe(false);
    expect(decideOutbound(at('fd00:1:2::3', 1), rules).ok).toBe(true);
  });

  it('the unspecified address, multicast and broadcast are never allowed, whatever the list says', () => {
    const everything = rulesOf('0.0.0.0/0, ::/0');
    for (const a of ['0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255']) expect(decideOutbound(at(a, 80), everything).ok).toBe(false);
    expect(decideOutbound(at('127.0.0.1', 80), everything).ok).toBe(true);
  });

  it('a bad entry is named', () => {
    expect(parseAllowList('10.0.0.0/8, nonsense here')).toEqual({ error: '"nonsense here": not a host name' });
    expect(parseAllowList('10.0.0.0/33')).toMatchObject({ error: expect.stringMatching(/0–32/) });
    expect(parseAllowList('127.1')).toMatchObject({ error: expect.stringMatching(/dotted quad/) });
    expect(parseAllowList('host:99999')).toMatchObject({ error: expect.stringMatching(/port/) });
  });
});

describe('outbound policy: URLs at input time', () => {
  const webhook = (url: string, rules: AllowRule[] = []) => checkTargetUrl(url, { rules, schemes: ['http:', 'https:'] });

  it.each([
    'http://169.254.169.254/latest/meta-data/iam',
    'http://[::1]:8080/',
    'http://0.0.0.0:22/',
    'http://localhost:8086/write',
    'http://127.1/x',
    'http://2130706433/',
    'http://[::ffff:127.0.0.1]/',
    'http://kansui.localhost/',
    'http://printer.local/',
    'http://metadata.google.internal/',
    'http://10.0.0.5/hook',
    'ftp://example.com/',
    'http://user:pw@example.com/',
  ])('refuses %s', (url) => {
    expect(webhook(url).ok).toBe(false);
  });

  it('accepts a public name or address, and a listed private one', () => {
    expect(webhook('https://hooks.city.example/flood')).toEqual({ ok: true, href: 'https://hooks.city.example/flood' });
    expect(webhook('http://93.184.215.14/x').ok).toBe(true);
    expect(webhook('http://10.0.0.5/hook', rulesOf('10.0.0.0/24')).ok).toBe(true);
    expect(webhook('http://localhost:8086/write', rulesOf('localhost:8086')).ok).toBe(true);
    expect(webhook('http://localhost:8087/write', rulesOf('localhost:8086')).ok).toBe(false);
  });

  it('push endpoints: https on a known push service only; an exact origin is the one way to allow another (plain http included)', () => {
    const push = (url: string, rules: AllowRule[] = [], hosts = pushHosts) => checkPushEndpoint(url, { rules, pushHosts: hosts });
    expect(push('https://fcm.googleapis.com/fcm/send/abc')).toEqual({ ok: true, href: 'https://fcm.googleapis.com/fcm/send/abc' });
    expect(push('https://web.push.apple.com/QAbc')).toMatchObject({ ok: true });
    expect(push('https://wns2-par02p.notify.windows.com/w/?token=x')).toMatchObject({ ok: true });
    expect(push('https://updates.push.services.mozilla.com/wpush/v2/x')).toMatchObject({ ok: true });
    // One subscription is one spelling.
    expect(push('https://FCM.googleapis.com:443/fcm/send/abc#frag')).toEqual({ ok: true, href: 'https://fcm.googleapis.com/fcm/send/abc' });
    expect(push('http://fcm.googleapis.com/fcm/send/abc')).toMatchObject({ ok: false, reason: expect.stringMatching(/https/) });
    expect(push('https://evil.example/push')).toMatchObject({ ok: false, reason: expect.stringMatching(/PUSH_ALLOWED_HOSTS/) });
    expect(push('https://push.apple.com.evil.example/x').ok).toBe(false);
    expect(push('https://notpush.apple.com/x').ok).toBe(false);
    // A listed host on another port than 443 is not the push service.
    expect(push('https://fcm.googleapis.com:8443/fcm/send/abc')).toMatchObject({ ok: false, reason: expect.stringMatching(/fcm\.googleapis\.com:8443 is not a known push service/) });
    expect(push('https://fcm.googleapis.com:8443/x', [], (parsePushHosts('https://fcm.googleapis.com:8443') as { rules: PushHostRule[] }).rules).ok).toBe(true);
    expect(push('https://any.example/x', [], (parsePushHosts('*') as { rules: PushHostRule[] }).rules).ok).toBe(true);
    expect(push('http://any.example/x', [], (parsePushHosts('*') as { rules: PushHostRule[] }).rules).ok).toBe(false);
    expect(push('http://127.0.0.1:9999/push/x').ok).toBe(false);
    expect(push('http://169.254.169.254/latest/meta-data/iam').ok).toBe(false);
    const relay = (parsePushHosts('http://127.0.0.1:9999') as { rules: PushHostRule[] }).rules;
    // Listed as a push service but still a loopback address: both lists have to say yes.
    expect(push('http://127.0.0.1:9999/push/x', [], relay).ok).toBe(false);
    expect(push('http://127.0.0.1:9999/push/x', rulesOf('127.0.0.1:9999'), relay).ok).toBe(true);
    expect(push('http://127.0.0.1:9998/push/x', rulesOf('127.0.0.1:9999'), relay).ok).toBe(false);
  });
});
