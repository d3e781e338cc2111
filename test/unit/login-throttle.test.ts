import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLoginThrottle, type Admission, type SignInTicket } from '../../services/core/login-throttle.ts';

/** The ticket of an admitted attempt (fails the test when it was refused). */
function admitted(a: Admission): SignInTicket {
  if (!a.ok) throw new Error(`refused (${a.scope}, retry in ${a.retryAfterMs} ms)`);
  return a.ticket;
}

describe('login throttle (pure; vitest fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts an attempt when it is admitted: with 5 still being hashed, the 6th is refused (issue 10 #8)', () => {
    const th = createLoginThrottle();
    const tickets = Array.from({ length: 5 }, () => admitted(th.admit({ username: 'admin', source: '192.0.2.1' }, Date.now())));
    const sixth = th.admit({ username: 'admin', source: '192.0.2.1' }, Date.now());
    expect(sixth).toEqual({ ok: false, scope: 'pair', retryAfterMs: 60_000 });
    // Outcomes arrive later; the first failure to fill the limit says so (for the log).
    expect(tickets.map((t) => t.failed())).toEqual([[], [], [], [], ['pair']]);
  });

  it('gives the reservation back on success (and forgives the pair) or when the attempt was never evaluated', () => {
    const th = createLoginThrottle();
    const at = (source: string) => th.admit({ username: 'sato', source }, Date.now());
    for (let i = 0; i < 4; i++) admitted(at('192.0.2.1')).failed();
    admitted(at('192.0.2.1')).cancelled(); // e.g. no hash slot: does not count
    admitted(at('192.0.2.1')).succeeded(Date.now()); // the 5th try was right: the pair's 4 failures are forgiven
    for (let i = 0; i < 4; i++) admitted(at('192.0.2.1')).failed();
    admitted(at('192.0.2.1')).failed();
    expect(at('192.0.2.1')).toMatchObject({ ok: false, scope: 'pair' });
    expect(() => admitted(at('192.0.2.9'))).not.toThrow();
  });

  it('blocks a (username, address) pair, not the username: the owner from another address and others from that address still get in (#10)', () => {
    const th = createLoginThrottle();
    for (let i = 0; i < 5; i++) admitted(th.admit({ username: 'admin', source: '203.0.113.66' }, Date.now())).failed();
    expect(th.admit({ username: 'admin', source: '203.0.113.66' }, Date.now())).toMatchObject({ ok: false, scope: 'pair' });
    expect(th.admit({ username: 'admin', source: '198.51.100.7' }, Date.now()).ok).toBe(true);
    expect(th.admit({ username: 'tanaka', source: '203.0.113.66' }, Date.now()).ok).toBe(true);
  });

  it('refuses an address after 20 failures a minute for any usernames (spraying), and lets it try again as they leave the window', () => {
    const th = createLoginThrottle();
    for (let i = 0; i < 20; i++) {
      admitted(th.admit({ username: `user${i}`, source: '203.0.113.66' }, Date.now())).failed();
      vi.advanceTimersByTime(1000);
    }
    const refused = th.admit({ username: 'someone-new', source: '203.0.113.66' }, Date.now());
    expect(refused).toEqual({ ok: false, scope: 'address', retryAfterMs: 40_000 }); // the first failure, 20 s ago, leaves in 40 s
    expect(th.admit({ username: 'someone-new', source: '198.51.100.7' }, Date.now()).ok).toBe(true);
    // Refused attempts are not counted: the wait runs out, it does not grow.
    vi.advanceTimersByTime(39_999);
    expect(th.admit({ username: 'x', source: '203.0.113.66' }, Date.now())).toMatchObject({ ok: false, retryAfterMs: 1 });
    vi.advanceTimersByTime(1);
    expect(th.admit({ username: 'x', source: '203.0.113.66' }, Date.now()).ok).toBe(true);
  });

  it('slows a username attacked from many addresses without locking it: trusted addresses go on, the rest share one attempt per interval', () => {
    const th = createLoginThrottle({ userSlowAfter: 6, userSlowIntervalMs: 30_000 });
    admitted(th.admit({ username: 'admin', source: '10.0.0.1' }, Date.now())).succeeded(Date.now()); // the owner's office
    vi.advanceTimersByTime(60_000);
    // A botnet: 3 addresses × 2 failures, each far below the pair limit.
    for (const source of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      for (let i = 0; i < 2; i++) admitted(th.admit({ username: 'admin', source }, Date.now())).failed();
    }
    // The owner's office is trusted: not slowed, however often the attackers try.
    expect(th.isTrusted({ username: 'admin', source: '10.0.0.1' }, Date.now())).toBe(true);
    const owner = th.admit({ username: 'admin', source: '10.0.0.1' }, Date.now());
    expect(owner).toMatchObject({ ok: true, slowLane: false });
    admitted(owner).succeeded(Date.now());
    // Everyone else shares one slot per 30 s: the first gets it (and is counted), the next waits.
    const first = th.admit({ username: 'admin', source: '203.0.113.4' }, Date.now());
    expect(first).toMatchObject({ ok: true, slowLane: true });
    admitted(first).failed();
    expect(th.admit({ username: 'admin', source: '198.51.100.9' }, Date.now())).toEqual({ ok: false, scope: 'user', retryAfterMs: 30_000 });
    vi.advanceTimersByTime(30_000);
    const next = th.admit({ username: 'admin', source: '198.51.100.9' }, Date.now());
    expect(next).toMatchObject({ ok: true, slowLane: true });
    // A slot whose hash never ran is handed back at once.
    admitted(next).cancelled();
    expect(th.admit({ username: 'admin', source: '198.51.100.9' }, Date.now())).toMatchObject({ ok: true, slowLane: true });
    // Other usernames are not slowed.
    expect(th.admit({ username: 'tanaka', source: '203.0.113.4' }, Date.now())).toMatchObject({ ok: true, slowLane: false });
    // When the failures leave the 15-minute window, the slowdown ends.
    vi.advanceTimersByTime(15 * 60_000);
    expect(th.admit({ username: 'admin', source: '198.51.100.10' }, Date.now())).toMatchObject({ ok: true, slowLane: false });
  });

  it('reports the moment a username becomes slowed (for the log), once', () => {
    const th = createLoginThrottle({ userSlowAfter: 3 });
    const reached = ['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((source) => admitted(th.admit({ username: 'admin', source }, Date.now())).failed());
    expect(reached).toEqual([[], [], ['user']]);
  });

  it('forgets a trusted address after 30 days', () => {
    const th = createLoginThrottle();
    admitted(th.admit({ username: 'admin', source: '10.0.0.1' }, Date.now())).succeeded(Date.now());
    vi.advanceTimersByTime(30 * 24 * 3600_000 - 1);
    expect(th.isTrusted({ username: 'admin', source: '10.0.0.1' }, Date.now())).toBe(true);
    vi.advanceTimersByTime(1);
    expect(th.isTrusted({ username: 'admin', source: '10.0.0.1' }, Date.now())).toBe(false);
  });

  it('bounds memory: at most maxKeys keys per table under a username spray, and expired keys are swept as attempts come in', () => {
    const th = createLoginThrottle({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) admitted(th.admit({ username: `u${i}`, source: `198.51.${i >> 8}.${i & 255}` }, Date.now())).failed();
    expect(th.size()).toEqual({ pairs: 100, addresses: 100, users: 100, trusted: 0 });
    // The newest keys are kept (least recently touched forgotten first).
    for (let i = 0; i < 4; i++) admitted(th.admit({ username: 'u999', source: '198.51.3.231' }, Date.now())).failed();
    expect(th.admit({ username: 'u999', source: '198.51.3.231' }, Date.now())).toMatchObject({ ok: false, scope: 'pair' });
    // Once the window has passed, new attempts sweep the old keys away.
    vi.advanceTimersByTime(15 * 60_000);
    for (let i = 0; i < 30; i++) admitted(th.admit({ username: 'late', source: '192.0.2.1' }, Date.now())).cancelled();
    expect(th.size()).toEqual({ pairs: 0, addresses: 0, users: 0, trusted: 0 });
  });

  it('leaves no keys behind for attempts that cost no hash: refused, or admitted and then not hashed (a cheap key flood cannot evict real counters)', () => {
    const th = createLoginThrottle({ maxKeys: 100 });
    for (let i = 0; i < 5; i++) admitted(th.admit({ username: 'admin', source: '203.0.113.66' }, Date.now())).failed();
    for (let i = 0; i < 10_000; i++) {
      const a = th.admit({ username: `random-${i}`, source: `198.51.${i >> 8 & 255}.${i & 255}` }, Date.now());
      if (a.ok) a.ticket.cancelled();
      th.admit({ username: 'admin', source: '203.0.113.66' }, Date.now()); // refused: counts nothing
    }
    expect(th.size()).toEqual({ pairs: 1, addresses: 1, users: 1, trusted: 0 });
    expect(th.admit({ username: 'admin', source: '203.0.113.66' }, Date.now())).toMatchObject({ ok: false, scope: 'pair' });
  });
});
