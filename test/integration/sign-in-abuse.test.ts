import { request } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { TEST_PASSWORD, createTestUser } from '../helpers/console.ts';

/**
 * Issue 10, "Sign-in", items 8-10: the attacks as they were made, over real
 * HTTP against the whole service. Each client binds its socket to its own
 * loopback address (127.0.0.0/8 is all loopback on Linux), so the service
 * sees different TCP peers exactly as it would on the internet; TRUST_PROXY
 * stays off.
 */

interface Answer {
  status: number;
  retryAfter: number | undefined;
  body: { error?: { code: string; message: string }; username?: string };
}

describe('sign-in under attack (issue 10 #8-#10)', () => {
  let k: TestKansui;
  const logLines: Record<string, unknown>[] = [];

  /** POST /api/session from `from` (a loopback address), as the console does. */
  function signInFrom(from: string, username: string, password: string): Promise<Answer> {
    const url = new URL('/api/session', k.httpUrl);
    const payload = JSON.stringify({ username, password });
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          localAddress: from,
          agent: false, // one connection per attempt, like parallel attackers
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Origin: k.httpUrl },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const retry = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, retryAfter: retry === undefined ? undefined : Number(retry), body: text ? JSON.parse(text) : {} });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`sign-in from ${from} unanswered after 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  const statuses = (answers: Answer[]) => answers.reduce<Record<number, number>>((n, a) => ({ ...n, [a.status]: (n[a.status] ?? 0) + 1 }), {});

  beforeAll(async () => {
    // Capture the service's log to check what a security reviewer would look for in it.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    k = await startTestKansui(
      // A small username budget and a long slow interval so the distributed attack in #10 needs few hashes
      // and its slot cannot come round again during the test; the other limits are the defaults.
      { SIGNIN_USER_SLOWDOWN_AFTER: '8', SIGNIN_USER_SLOW_INTERVAL_S: '600' },
      { logger: pino({ level: 'info' }, sink) },
    );
    for (const name of ['hayashi', 'admin', 'kimura', 'mori']) await createTestUser(k, name, name === 'admin' ? 'admin' : 'staff');
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('#8: 60 parallel wrong passwords for one user are counted before hashing: exactly 5 evaluated (401), 55 refused (429)', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => signInFrom('127.0.0.2', 'hayashi', `wrong guess number ${i}`)));
    expect(statuses(answers)).toEqual({ 401: 5, 429: 55 });
    for (const a of answers.filter((x) => x.status === 429)) expect(a.retryAfter).toBeGreaterThan(0);
    // The user herself, from her own address, is not affected.
    const real = await signInFrom('127.0.0.3', 'hayashi', TEST_PASSWORD);
    expect(real.status).toBe(200);
  });

  it('#9: 70 parallel attempts from one address cannot fill the hash queue: the excess gets 429 at once, staff elsewhere sign in (200, never 503)', async () => {
    const burst = Array.from({ length: 70 }, (_, i) => signInFrom('127.0.0.4', `spray-${i}`, 'Winter2026!Winter2026!'));
    // Once the first attempt has been answered, the burst has reached the server (before the fix: a 503 for a full queue).
    await Promise.race(burst);
    const staff = await signInFrom('127.0.0.5', 'mori', TEST_PASSWORD);
    const answers = await Promise.all(burst);
    expect(staff.status).toBe(200);
    const counts = statuses(answers);
    expect(counts[503]).toBeUndefined();
    // At most SIGNIN_MAX_FAILURES_PER_ADDRESS (20) were hashed; every other attempt was refused without a hash.
    expect(counts[401]).toBeLessThanOrEqual(20);
    expect(counts[429]).toBeGreaterThanOrEqual(50);
    const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/kansui_console_sign_ins_total\{result="busy"\} 0/);
    expect(metrics).toMatch(/kansui_console_password_hashes\{state="waiting"\} \d+/);
  });

  it('#10: an address hammering admin gets 429; the real admin from another address still signs in', async () => {
    // One after the other, so this shows item 10 on its own (parallel attempts are item 8's test).
    const hammering: Answer[] = [];
    for (let i = 0; i < 30; i++) hammering.push(await signInFrom('127.0.0.6', 'admin', `guess ${i}`));
    expect(statuses(hammering)).toEqual({ 401: 5, 429: 25 });
    // Even the right password is refused from the hammering address for the rest of the minute…
    expect((await signInFrom('127.0.0.6', 'admin', TEST_PASSWORD)).status).toBe(429);
    // …but not from the admin's own.
    const real = await signInFrom('127.0.0.7', 'admin', TEST_PASSWORD);
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ username: 'admin', role: 'admin' });
  });

  it('#10: a username attacked from many addresses is slowed, not locked: its owner from an address it signed in from still gets in', async () => {
    expect((await signInFrom('127.0.0.8', 'kimura', TEST_PASSWORD)).status).toBe(200); // kimura's office, earlier in the shift
    // A botnet: four addresses, two guesses each (far below the per-address limits), 8 failures for kimura.
    const botnet = await Promise.all(
      ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'].flatMap((from) => [1, 2].map((i) => signInFrom(from, 'kimura', `botnet guess ${from} ${i}`))),
    );
    expect(statuses(botnet)).toEqual({ 401: 8 });
    // Every other address now shares one attempt per SIGNIN_USER_SLOW_INTERVAL_S: the first is evaluated, the next waits.
    expect((await signInFrom('127.0.1.5', 'kimura', 'one more guess')).status).toBe(401);
    const slowed = await signInFrom('127.0.1.6', 'kimura', 'and another guess');
    expect(slowed.status).toBe(429);
    expect(slowed.retryAfter).toBeGreaterThan(500);
    // The owner, from her office, is not slowed however long the attack goes on.
    expect((await signInFrom('127.0.0.8', 'kimura', TEST_PASSWORD)).status).toBe(200);
    // Other accounts from those addresses are not affected.
    expect((await signInFrom('127.0.1.6', 'mori', TEST_PASSWORD)).status).toBe(200);
  });

  it('logs failures and reached limits (never an unknown username), and counts refusals by reason', async () => {
    const failed = logLines.filter((l) => l.msg === 'sign-in failed');
    expect(failed.some((l) => l.username === 'hayashi' && l.address === '127.0.0.2')).toBe(true);
    // The spray used usernames nobody has: logged as such, the typed name left out.
    const sprayed = failed.filter((l) => l.address === '127.0.0.4');
    expect(sprayed.length).toBeGreaterThan(0);
    for (const l of sprayed) expect(l).toMatchObject({ user_exists: false });
    expect(sprayed.some((l) => 'username' in l)).toBe(false);
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'sign-in limit reached', limit: 'pair', username: 'admin', address: '127.0.0.6' }));
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'sign-in slowed for username (failures from many addresses)', username: 'kimura' }));
    expect(logLines.some((l) => JSON.stringify(l).includes(TEST_PASSWORD) || JSON.stringify(l).includes('guess'))).toBe(false);
    const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
    for (const reason of ['pair', 'user']) expect(metrics).toMatch(new RegExp(`kansui_console_sign_ins_refused_total\\{reason="${reason}"\\} [1-9]`));
  });
});
