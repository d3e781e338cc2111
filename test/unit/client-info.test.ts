import { describe, expect, it } from 'vitest';
import { addressBucket } from '../../services/api/client-info.ts';

describe('addressBucket: the key a per-address limit counts under', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(addressBucket('203.0.113.10')).toBe('203.0.113.10');
    expect(addressBucket('unknown')).toBe('unknown');
  });

  it('reduces an IPv6 address to its /64, however it is written', () => {
    expect(addressBucket('2001:db8:1:2::a')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:ffff:ffff:ffff:fffe')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('2001:DB8:1:2::A')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('2001:db8:1:3::1')).not.toBe(addressBucket('2001:db8:1:2::1'));
  });
});
