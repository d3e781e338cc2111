import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { TEST_PASSWORD, consoleFetch, createTestUser, signIn } from '../helpers/console.ts';

describe('console sign-in: sessions, throttling, password change, headers', () => {
  let k: TestKansui;
  beforeAll(async () => {
    // TRUST_PROXY so the test can speak for different client addresses via X-Forwarded-For.
    // SIGNIN_MAX_FAILURES_PER_ADDRESS lowered from 20 so the per-address test needs fewer hashes.
    k = await startTestKansui({ TRUST_PROXY: 'true', MAP_TILE_URL: 'https://{s}.tiles.example.jp/{z}/{x}/{y}.png', SIGNIN_MAX_FAILURES_PER_ADDRESS: '8' });
    await createTestUser(k, 'tanaka', 'technician');
    await createTestUser(k, 'sato', 'technician'); // never throttled itself: tanaka is, by the throttling test
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('sets an HttpOnly SameSite=Strict cookie; __Host- and Secure only when the trusted proxy says HTTPS', async () => {
    const plain = await fetch(`${k.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: k.httpUrl, 'X-Forwarded-For': '10.0.0.1' },
      body: JSON.stringify({ username: 'tanaka', password: TEST_PASSWORD }),
    });
    expect(plain.status).toBe(200);
    expect(await plain.json()).toEqual({ username: 'tanaka', role: 'technician' });
    const c1 = plain.headers.get('set-cookie')!;
    expect(c1).toMatch(/^kansui_session=[A-Za-z0-9_-]{43};/);
    expect(c1).toMatch(/HttpOnly/);
    expect(c1).toMatch(/SameSite=Strict/);
    expect(c1).not.toMatch(/Secure/);

    const host = new URL(k.httpUrl).host;
    const tls = await fetch(`${k.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: `https://${host}`, 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '10.0.0.2' },
      body: JSON.stringify({ username: 'tanaka', password: TEST_PASSWORD }),
    });
    expect(tls.status).toBe(200);
    const c2 = tls.headers.get('set-cookie')!;
    expect(c2).toMatch(/^__Host-kansui_session=/);
    expect(c2).toMatch(/Secure/);
    expect(c2).toMatch(/Path=\//);
    expect(c2).not.toMatch(/Domain=/);
    // The __Host- cookie signs in later HTTPS requests (and is ignored over plain HTTP).
    const pair = c2.split(';')[0]!;
    const overTls = await fetch(`${k.httpUrl}/api/session`, { headers: { Cookie: pair, 'X-Forwarded-Proto': 'https' } });
    expect(await overTls.json()).toMatchObject({ username: 'tanaka', via: 'session' });
    expect((await fetch(`${k.httpUrl}/api/session`, { headers: { Cookie: pair } })).status).toBe(401);
  });

  it('throttles more than 5 failures a minute for one user from one address and too many from one address (for any user), with the same answer for unknown users; the user from elsewhere still gets in', async () => {
    const attempt = (username: string, password: string, address: string) =>
      fetch(`${k.httpUrl}/api/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: k.httpUrl, 'X-Forwarded-For': address },
        body: JSON.stringify({ username, password }),
      });
    const unknown = await attempt('nobody-here', 'whatever it is', '10.1.1.1');
    expect(unknown.status).toBe(401);
    // Five failures for tanaka from one address: the (user, address) count reaches 5.
    const failures = await Promise.all([1, 2, 3, 4, 5].map((i) => attempt('tanaka', 'wrong password number ' + i, '10.1.0.1')));
    expect(failures.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect((await unknown.json()).error.message).toBe((await failures[0]!.json()).error.message);

    // Sixth try for tanaka from that address, even with the right password: 429.
    const blocked = await attempt('tanaka', TEST_PASSWORD, '10.1.0.1');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // From another address tanaka still signs in: failures elsewhere cannot lock a user out (issue 10 #10).
    expect((await attempt('tanaka', TEST_PASSWORD, '10.1.0.99')).status).toBe(200);
    // Spraying other usernames from the first address until it reaches SIGNIN_MAX_FAILURES_PER_ADDRESS (8 here)…
    const spray = await Promise.all([1, 2, 3].map((i) => attempt(`nobody-${i}`, 'whatever it is', '10.1.0.1')));
    expect(spray.map((r) => r.status)).toEqual([401, 401, 401]);
    // …then any username from it gets 429 (per address), existing or not, with the same answer.
    const fromSameAddress = await attempt('sato', TEST_PASSWORD, '10.1.0.1');
    const unknownFromSameAddress = await attempt('nobody-at-all', 'x', '10.1.0.1');
    expect([fromSameAddress.status, unknownFromSameAddress.status]).toEqual([429, 429]);
    expect(await fromSameAddress.json()).toEqual(await unknownFromSameAddress.json());
    const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/kansui_console_sign_ins_total\{result="failed"\} 9/);
    expect(metrics).toMatch(/kansui_console_sign_ins_total\{result="throttled"\} 3/);
    expect(metrics).toMatch(/kansui_console_sign_ins_refused_total\{reason="pair"\} 1/);
    expect(metrics).toMatch(/kansui_console_sign_ins_refused_total\{reason="address"\} 2/);
  });

  it('a session cookie from before a password change no longer works; the browser that changed it gets a fresh one', async () => {
    await createTestUser(k, 'suzuki', 'staff');
    const laptop = await signIn(k, 'suzuki', TEST_PASSWORD, { 'X-Forwarded-For': '10.3.0.1' });
    const phone = await signIn(k, 'suzuki', TEST_PASSWORD, { 'X-Forwarded-For': '10.3.0.2' });
    expect((await consoleFetch(k, 'GET', '/api/session', { cookie: phone })).status).toBe(200);

    const change = await consoleFetch(k, 'PUT', '/api/session/password', {
      cookie: laptop,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new long passphrase' },
    });
    expect(change.status).toBe(204);
    const fresh = change.headers.get('set-cookie')!.split(';')[0]!;
    expect(fresh).not.toBe(laptop);

    expect((await consoleFetch(k, 'GET', '/api/session', { cookie: phone })).status).toBe(401);
    expect((await consoleFetch(k, 'GET', '/api/session', { cookie: laptop })).status).toBe(401);
    expect(await (await consoleFetch(k, 'GET', '/api/session', { cookie: fresh })).json()).toMatchObject({ username: 'suzuki', role: 'staff' });

    // Sign-out ends the session server-side, not just in the browser.
    expect((await consoleFetch(k, 'DELETE', '/api/session', { cookie: fresh })).status).toBe(204);
    expect((await consoleFetch(k, 'GET', '/api/session', { cookie: fresh })).status).toBe(401);
  });

  it('rotates the session id at sign-in (the old cookie of that browser dies)', async () => {
    const first = await signIn(k, 'sato', TEST_PASSWORD, { 'X-Forwarded-For': '10.4.0.1' });
    const second = await signIn(k, 'sato', TEST_PASSWORD, { 'X-Forwarded-For': '10.4.0.1', Cookie: first });
    expect(second).not.toBe(first);
    expect((await consoleFetch(k, 'GET', '/api/session', { cookie: first })).status).toBe(401);
    expect((await consoleFetch(k, 'GET', '/api/session', { cookie: second })).status).toBe(200);
  });

  it('refuses non-JSON bodies (415) and cross-site requests (403) even with a valid session', async () => {
    const cookie = await signIn(k, 'sato', TEST_PASSWORD, { 'X-Forwarded-For': '10.5.0.1' });
    const form = await fetch(`${k.httpUrl}/api/sensors`, {
      method: 'POST',
      headers: { Cookie: cookie, Origin: k.httpUrl, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'id=x&name=y&lat=1&lon=2',
    });
    expect(form.status).toBe(415);
    const noOrigin = await consoleFetch(k, 'POST', '/api/sensors', { cookie, origin: null, body: { id: 'x', name: 'y', lat: 1, lon: 2 } });
    expect(noOrigin.status).toBe(403);
    const fetchMeta = await fetch(`${k.httpUrl}/api/sensors`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'x', name: 'y', lat: 1, lon: 2 }),
    });
    expect(fetchMeta.status).toBe(403);
  });

  it('sends CSP (with the tile host), frame-ancestors none and nosniff on HTML; HSTS only over HTTPS', async () => {
    const bare = await fetch(`${k.httpUrl}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/console/');
    const page = await fetch(`${k.httpUrl}/console/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/img-src [^;]*https:\/\/\*\.tiles\.example\.jp/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('strict-transport-security')).toBeNull();
    const tls = await fetch(`${k.httpUrl}/console/`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(tls.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });
});
