/**
 * Which network addresses the alert channels may connect to (issue 10, SSRF).
 * Pure: parses and classifies IP addresses, parses the operator's allow list
 * (ALERT_ALLOW_PRIVATE_TARGETS) and the push-service list (PUSH_ALLOWED_HOSTS),
 * and decides. The adapters (services/alerting/outbound.ts) apply it at
 * connect time to the address actually resolved, so DNS rebinding cannot get
 * round it; the API applies it to URLs at input time as well, so staff and
 * residents hear at once that a target is refused.
 *
 * Address classes follow the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890, updated by RFC 8190): only addresses that registry
 * and the IANA address-space registries call globally reachable are public.
 */

/** What an address is, as far as reaching it from a public service goes. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'unique_local'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved';

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: number[];
}

interface Block {
  prefix: number[];
  bits: number;
  class: AddressClass;
  source: string;
}

function v4Block(cidr: string, cls: AddressClass, source: string): Block {
  const [a, bits] = cidr.split('/') as [string, string];
  return { prefix: parseIpv4Strict(a) as number[], bits: Number(bits), class: cls, source };
}
function v6Block(cidr: string, cls: AddressClass, source: string): Block {
  const [a, bits] = cidr.split('/') as [string, string];
  return { prefix: parseIpv6(a) as number[], bits: Number(bits), class: cls, source };
}

/** IANA IPv4 Special-Purpose Address Registry (RFC 6890 §2.2.2), plus multicast (RFC 5771) and class E (RFC 1112 §4). First match wins. */
const V4_BLOCKS: readonly Block[] = [
  v4Block('0.0.0.0/8', 'unspecified', 'RFC 791 / RFC 6890: "this network"; 0.0.0.0 reaches this host'),
  v4Block('10.0.0.0/8', 'private', 'RFC 1918'),
  v4Block('100.64.0.0/10', 'shared', 'RFC 6598: carrier-grade NAT'),
  v4Block('127.0.0.0/8', 'loopback', 'RFC 1122 §3.2.1.3'),
  v4Block('169.254.0.0/16', 'link_local', 'RFC 3927: cloud metadata services live here'),
  v4Block('172.16.0.0/12', 'private', 'RFC 1918'),
  v4Block('192.0.0.0/24', 'reserved', 'RFC 6890: IETF protocol assignments'),
  v4Block('192.0.2.0/24', 'reserved', 'RFC 5737: documentation'),
  v4Block('192.88.99.0/24', 'reserved', 'RFC 7526: deprecated 6to4 relay anycast'),
  v4Block('192.168.0.0/16', 'private', 'RFC 1918'),
  v4Block('198.18.0.0/15', 'reserved', 'RFC 2544: benchmarking'),
  v4Block('198.51.100.0/24', 'reserved', 'RFC 5737: documentation'),
  v4Block('203.0.113.0/24', 'reserved', 'RFC 5737: documentation'),
  v4Block('224.0.0.0/4', 'multicast', 'RFC 5771'),
  v4Block('255.255.255.255/32', 'broadcast', 'RFC 919: limited broadcast'),
  v4Block('240.0.0.0/4', 'reserved', 'RFC 1112 §4: class E'),
];

/**
 * IANA IPv6 Special-Purpose Address Registry (RFC 6890 §2.2.3) and IPv6
 * Address Space registry: only 2000::/3 is allocated global unicast; the rest
 * is reserved. Blocks that embed an IPv4 address are classified by it (below).
 */
const V6_BLOCKS: readonly Block[] = [
  v6Block('::/128', 'unspecified', 'RFC 4291 §2.5.2'),
  v6Block('::1/128', 'loopback', 'RFC 4291 §2.5.3'),
  v6Block('64:ff9b:1::/48', 'reserved', 'RFC 8215: local-use IPv4/IPv6 translation'),
  v6Block('100::/64', 'reserved', 'RFC 6666: discard-only'),
  v6Block('2001:db8::/32', 'reserved', 'RFC 3849: documentation'),
  v6Block('2001::/23', 'reserved', 'RFC 2928: IETF protocol assignments, Teredo RFC 4380 included'),
  v6Block('3fff::/20', 'reserved', 'RFC 9637: documentation'),
  v6Block('fc00::/7', 'unique_local', 'RFC 4193'),
  v6Block('fe80::/10', 'link_local', 'RFC 4291 §2.5.6'),
  v6Block('fec0::/10', 'private', 'RFC 3879: deprecated site-local'),
  v6Block('ff00::/8', 'multicast', 'RFC 4291 §2.7'),
  v6Block('2000::/3', 'public', 'RFC 4291 §2.5.4: global unicast'),
];

/** IPv6 blocks that carry an IPv4 address, and where: mapped (RFC 4291 §2.5.5.2), NAT64 (RFC 6052), 6to4 (RFC 3056). */
const V6_EMBEDDING: readonly { block: Block; at: number }[] = [
  { block: v6Block('::ffff:0:0/96', 'reserved', 'RFC 4291 §2.5.5.2: IPv4-mapped'), at: 12 },
  { block: v6Block('64:ff9b::/96', 'reserved', 'RFC 6052: NAT64 well-known prefix'), at: 12 },
  { block: v6Block('2002::/16', 'reserved', 'RFC 3056: 6to4'), at: 2 },
];

function inBlock(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < prefix.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] as number) & mask) !== ((prefix[i] as number) & mask)) return false;
  }
  return true;
}

/** Dotted-quad only (`a.b.c.d`, decimal, no leading zeros beyond `0`): the form resolvers and the URL parser output. */
export function parseIpv4Strict(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b, i) => b <= 255 && String(b) === m[i + 1]) ? bytes : undefined;
}

/**
 * The WHATWG URL Standard's IPv4 parser (§3.5), which is also what
 * inet_aton(3) accepts: one to four parts, each decimal, octal (`0` prefix) or
 * hex (`0x`), the last filling the remaining bytes. So `127.1`, `2130706433`,
 * `0x7f.1` and `0177.0.0.1` are all 127.0.0.1. Needed because a non-special
 * URL (`smtp://127.1`) keeps its host as written, and the resolver would
 * still read it as an address.
 */
export function parseIpv4Loose(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p.slice(1), 8);
    else if (/^(0|[1-9]\d*)$/.test(p)) n = Number(p);
    else return undefined;
    if (!Number.isSafeInteger(n)) return undefined;
    nums.push(n);
  }
  const last = nums.pop() as number;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return undefined;
  const bytes = [...nums];
  for (let i = 3 - nums.length; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes;
}

/** RFC 4291 §2.2 text forms, `::` compression and a trailing dotted quad included; a zone (`%eth0`) is ignored. */
export function parseIpv6(text: string): number[] | undefined {
  const s = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const groups = (part: string, lastOfAll: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i] as string;
      if (lastOfAll && i === items.length - 1 && g.includes('.')) {
        const v4 = parseIpv4Strict(g);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  let words: number[];
  if (dbl === -1) {
    const all = groups(s, true);
    if (!all || all.length !== 8) return undefined;
    words = all;
  } else {
    const head = groups(s.slice(0, dbl), false);
    const tail = groups(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** An IP literal as a URL host or resolver answer gives it (brackets allowed), or undefined for a name. */
export function parseIp(host: string): IpAddress | undefined {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.includes(':')) {
    const bytes = parseIpv6(h);
    return bytes && { family: 6, bytes };
  }
  const bytes = parseIpv4Loose(h);
  return bytes && { family: 4, bytes };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((ip.bytes[i] as number) << 8) | (ip.bytes[i + 1] as number));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) (best = i), (bestLen = j - i);
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if any. */
export function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.family !== 6) return undefined;
  for (const { block, at } of V6_EMBEDDING) if (inBlock(ip.bytes, block.prefix, block.bits)) return { family: 4, bytes: ip.bytes.slice(at, at + 4) };
  return undefined;
}

/**
 * Classify an address and name the registry entry that decides it.
 *
 * @example describeAddress(parseIp('169.254.169.254')!) // { class: 'link_local', source: 'RFC 3927 …' }
 */
export function describeAddress(ip: IpAddress): { class: AddressClass; source: string } {
  const v4 = ip.family === 4 ? ip : embeddedIpv4(ip);
  if (v4) {
    for (const b of V4_BLOCKS) if (inBlock(v4.bytes, b.prefix, b.bits)) return { class: b.class, source: b.source };
    return { class: 'public', source: 'IANA IPv4 address space' };
  }
  for (const b of V6_BLOCKS) if (inBlock(ip.bytes, b.prefix, b.bits)) return { class: b.class, source: b.source };
  return { class: 'reserved', source: 'IANA IPv6 address space (not allocated for global unicast)' };
}

export function classifyAddress(ip: IpAddress | string): AddressClass {
  const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
  if (!parsed) throw new TypeError(`not an IP address: ${String(ip)}`);
  return describeAddress(parsed).class;
}

/** Classes no allow-list entry opens: nothing of ours listens on them, and 0.0.0.0 / :: reach this very host. */
const NEVER: ReadonlySet<AddressClass> = new Set(['unspecified', 'multicast', 'broadcast']);

/**
 * Names that by definition resolve to this host or a private network, refused
 * at input time unless listed: localhost (RFC 6761 §6.3), .local (mDNS,
 * RFC 6762), .home.arpa (RFC 8375), .internal (reserved for private use by
 * ICANN, 2024). Other names are judged by what they resolve to, at connect time.
 */
export function isLocalName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || /\.(localhost|local|internal|home\.arpa)$/.test(h) || h === 'local' || h === 'internal';
}

/** One entry of ALERT_ALLOW_PRIVATE_TARGETS. */
export type AllowRule =
  | { kind: 'cidr'; ip: IpAddress; bits: number; text: string }
  | { kind: 'address'; ip: IpAddress; port: number; text: string }
  | { kind: 'host'; host: string; port: number | undefined; text: string };

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function toV4IfMapped(ip: IpAddress): IpAddress {
  if (ip.family === 6 && inBlock(ip.bytes, (V6_EMBEDDING[0] as { block: Block }).block.prefix, 96)) return { family: 4, bytes: ip.bytes.slice(12) };
  return ip;
}

/**
 * Parse ALERT_ALLOW_PRIVATE_TARGETS: comma-separated entries, each a CIDR
 * (`10.20.0.0/16`, `fd00:1::/48`), an address (`192.168.1.10`, `[fd00::5]`),
 * an address and port (`127.0.0.1:8086`, `[::1]:9000`), or a host name with or
 * without port (`hooks.city.lan`, `hooks.city.lan:8443`): a URL naming that
 * host may reach non-public addresses.
 */
export function parseAllowList(text: string | undefined): { rules: AllowRule[] } | { error: string } {
  const rules: AllowRule[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const bad = (why: string) => ({ error: `"${entry}": ${why}` });
    const slash = entry.indexOf('/');
    if (slash !== -1) {
      const addr = entry.slice(0, slash);
      const bits = Number(entry.slice(slash + 1));
      const ip = addr.includes(':') ? parseIpv6(addr) : parseIpv4Strict(addr);
      if (!ip) return bad('not an address before the "/"');
      const max = ip.length * 8;
      if (!/^\d{1,3}$/.test(entry.slice(slash + 1)) || bits > max) return bad(`prefix length must be 0–${max}`);
      const parsed: IpAddress = { family: ip.length === 4 ? 4 : 6, bytes: ip };
      const v4 = bits >= 96 ? toV4IfMapped(parsed) : parsed;
      rules.push({ kind: 'cidr', ip: v4, bits: v4 === parsed ? bits : bits - 96, text: entry });
      continue;
    }
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const hostPort = bracket ? undefined : /^([^:]+)(?::(\d+))?$/.exec(entry);
    const v6bare = !bracket && entry.includes(':') && parseIpv6(entry);
    if (v6bare) {
      const ip = toV4IfMapped({ family: 6, bytes: v6bare });
      rules.push({ kind: 'cidr', ip, bits: ip.family === 4 ? 32 : 128, text: entry });
      continue;
    }
    const m = bracket ?? hostPort;
    if (!m) return bad('expected a CIDR, an address, address:port, or host[:port]');
    const host = m[1] as string;
    const port = m[2] === undefined ? undefined : Number(m[2]);
    if (port !== undefined && (port < 1 || port > 65535)) return bad('port must be 1–65535');
    const v4 = bracket ? undefined : parseIpv4Strict(host);
    const v6 = bracket ? parseIpv6(host) : undefined;
    if (bracket && !v6) return bad('not an IPv6 address inside [ ]');
    const ipBytes = v4 ?? v6;
    if (ipBytes) {
      const ip = toV4IfMapped({ family: ipBytes.length === 4 ? 4 : 6, bytes: ipBytes });
      rules.push(port === undefined ? { kind: 'cidr', ip, bits: ip.family === 4 ? 32 : 128, text: entry } : { kind: 'address', ip, port, text: entry });
      continue;
    }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(host)) return bad('not a host name');
    if (parseIpv4Loose(host)) return bad('write an address as a dotted quad (a.b.c.d)');
    rules.push({ kind: 'host', host: normaliseHost(host), port, text: entry });
  }
  return { rules };
}

/** Where a channel is about to connect: the host as the URL or config names it, the port, and the address it resolved to. */
export interface OutboundTarget {
  host: string;
  port: number;
  address: IpAddress;
}

export type OutboundDecision = { ok: true; class: AddressClass; rule?: string } | { ok: false; class: AddressClass; reason: string };

function sameIp(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.bytes.every((x, i) => x === b.bytes[i]);
}

/**
 * The one outbound rule for every channel: public addresses are fine; any
 * other class only when an ALERT_ALLOW_PRIVATE_TARGETS entry matches; the
 * unspecified address, multicast and broadcast never.
 */
export function decideOutbound(target: OutboundTarget, rules: readonly AllowRule[]): OutboundDecision {
  const { class: cls, source } = describeAddress(target.address);
  const shown = formatIp(target.address);
  if (NEVER.has(cls)) return { ok: false, class: cls, reason: `${shown} is ${article(cls)} address (${source}); never a delivery target` };
  if (cls === 'public') return { ok: true, class: cls };
  const ip = toV4IfMapped(target.address);
  const host = normaliseHost(target.host.replace(/^\[|\]$/g, ''));
  for (const r of rules) {
    const hit =
      r.kind === 'cidr'
        ? r.ip.family === ip.family && inBlock(ip.bytes, r.ip.bytes, r.bits)
        : r.kind === 'address'
          ? r.port === target.port && sameIp(r.ip, ip)
          : r.host === host && (r.port === undefined || r.port === target.port);
    if (hit) return { ok: true, class: cls, rule: r.text };
  }
  return { ok: false, class: cls, reason: `${shown} is ${article(cls)} address (${source}); an operator can allow it with ALERT_ALLOW_PRIVATE_TARGETS` };
}

function article(cls: AddressClass): string {
  const word = cls.replace('_', '-');
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443, 'smtp:': 587, 'smtps:': 465 };

export type TargetCheck = { ok: true; href: string } | { ok: false; reason: string };

/**
 * Input-time check of a URL target (webhook, push endpoint): scheme allowed,
 * and, when the host is an address or a local-only name, the outbound rule
 * for it. A DNS name is not resolved here: the connect-time check judges what
 * it resolves to when a notice is sent.
 */
export function checkTargetUrl(raw: string, options: { rules: readonly AllowRule[]; schemes: readonly string[]; allowCredentials?: boolean }): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (!options.schemes.includes(url.protocol)) return { ok: false, reason: `scheme must be ${options.schemes.map((s) => s.replace(':', '')).join(' or ')}` };
  if ((url.username || url.password) && !options.allowCredentials) return { ok: false, reason: 'credentials in the URL are not accepted' };
  const host = url.hostname;
  const port = url.port ? Number(url.port) : (DEFAULT_PORT[url.protocol] ?? 0);
  const ip = parseIp(host);
  if (ip) {
    const d = decideOutbound({ host, port, address: ip }, options.rules);
    if (!d.ok) return { ok: false, reason: `refused: ${d.reason}` };
  } else if (isLocalName(host)) {
    const d = decideOutbound({ host, port, address: { family: 4, bytes: [127, 0, 0, 1] } }, options.rules.filter((r) => r.kind === 'host'));
    if (!d.ok) return { ok: false, reason: `refused: ${host} is a local-only name (RFC 6761, 6762, 8375); an operator can allow it with ALERT_ALLOW_PRIVATE_TARGETS` };
  }
  url.hash = '';
  return { ok: true, href: url.href };
}

/**
 * One entry of PUSH_ALLOWED_HOSTS: a host or `*.suffix` (any subdomain), both
 * on port 443 only; an exact origin (`https://push.city.lan:8443`, or
 * `http://127.0.0.1:9000`, the only way to allow plain http); or `*` (any https host).
 */
export type PushHostRule = { kind: 'host'; host: string } | { kind: 'suffix'; suffix: string } | { kind: 'origin'; origin: string } | { kind: 'any' };

/**
 * The push services browsers use today (their endpoint hosts): Chrome, Edge
 * on Android, Opera and Samsung Internet use Firebase Cloud Messaging;
 * Firefox Mozilla's autopush; Safari Apple's; Edge on Windows WNS.
 */
export const DEFAULT_PUSH_HOSTS = 'fcm.googleapis.com,updates.push.services.mozilla.com,*.push.apple.com,*.notify.windows.com';

export function parsePushHosts(text: string): { rules: PushHostRule[] } | { error: string } {
  const rules: PushHostRule[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    if (entry === '*') rules.push({ kind: 'any' });
    else if (/^https?:\/\//i.test(entry)) {
      let origin: string;
      try {
        origin = new URL(entry).origin;
      } catch {
        return { error: `"${entry}": not a URL origin` };
      }
      rules.push({ kind: 'origin', origin });
    } else if (/^\*\.[a-z0-9.-]+$/i.test(entry)) rules.push({ kind: 'suffix', suffix: normaliseHost(entry.slice(1)) });
    else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(entry)) rules.push({ kind: 'host', host: normaliseHost(entry) });
    else return { error: `"${entry}": expected a host, *.domain, an origin like https://push.example:8443, or *` };
  }
  return { rules };
}

/**
 * Input-time check of a Web Push endpoint: https (RFC 8030 §8: push
 * messages go over TLS), a push service on the list, and the outbound rule.
 * Returns the endpoint normalised (lower-case host, no default port, no
 * fragment) so one browser subscription is one row however it is spelled.
 */
export function checkPushEndpoint(raw: string, options: { rules: readonly AllowRule[]; pushHosts: readonly PushHostRule[] }): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  const host = normaliseHost(url.hostname);
  const byOrigin = options.pushHosts.some((r) => r.kind === 'origin' && r.origin === url.origin);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && byOrigin)) return { ok: false, reason: 'a push endpoint must be https' };
  // A host or *.domain entry means the push service on its usual port (443); another port must be listed as an origin.
  const byHost = url.port === '' && options.pushHosts.some((r) => (r.kind === 'host' ? r.host === host : r.kind === 'suffix' ? host.endsWith(r.suffix) : false));
  const listed = byOrigin || byHost || options.pushHosts.some((r) => r.kind === 'any');
  if (!listed) return { ok: false, reason: `${url.host} is not a known push service (PUSH_ALLOWED_HOSTS)` };
  return checkTargetUrl(url.href, { rules: options.rules, schemes: ['https:', 'http:'] });
}
