import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createHttpPolicy } from '../../services/api/http-policy.ts';
import { createAuditLog } from '../../services/audit/audit-log.ts';
import type { AuthEnv } from '../../services/auth/middleware.ts';
import { createMemoryAudit } from '../../services/storage/memory-audit.ts';

/**
 * Issue 16: the app-wide HTTP policy is its own module in services/api/,
 * installed by the root; a route module gets CSRF protection, security
 * headers and the audit of writes with no console mounted at all.
 */
describe('app-wide HTTP policy without the console', () => {
  function app() {
    const repo = createMemoryAudit();
    const audit = createAuditLog(repo, () => 7);
    const a = new Hono<AuthEnv>();
    a.use('*', async (c, next) => {
      if (c.req.header('Authorization') === 'Bearer t') c.set('principal', { userId: 1, username: 'sato', role: 'staff', via: 'token' });
      await next();
    });
    for (const mw of createHttpPolicy({ trustProxy: false, tileUrl: 'https://{s}.tile.example/{z}/{x}/{y}.png', auditWrites: audit.auditWrites })) a.use('*', mw);
    a.post('/api/feature/thing', (c) => c.json({ ok: true }));
    a.get('/page', (c) => c.html('<p>x</p>'));
    return { a, repo };
  }

  it('refuses a cross-origin write and a non-JSON body before the route runs', async () => {
    const { a } = app();
    const cross = await a.request('http://kansui.test/api/feature/thing', { method: 'POST', headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json' }, body: '{}' });
    expect(cross.status).toBe(403);
    const form = await a.request('http://kansui.test/api/feature/thing', { method: 'POST', headers: { Origin: 'http://kansui.test', 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(form.status).toBe(415);
    const same = await a.request('http://kansui.test/api/feature/thing', { method: 'POST', headers: { Origin: 'http://kansui.test', 'Content-Type': 'application/json' }, body: '{}' });
    expect(same.status).toBe(200);
  });

  it('sets the CSP (with the tile host) and framing rules on HTML, nosniff on everything', async () => {
    const { a } = app();
    const page = await a.request('http://kansui.test/page');
    expect(page.headers.get('Content-Security-Policy')).toContain("img-src 'self' data: blob: https://*.tile.example");
    expect(page.headers.get('X-Frame-Options')).toBe('DENY');
    expect(page.headers.get('X-Content-Type-Options')).toBe('nosniff');
  });

  it('audits a signed-in write of any route module as http.write, with the client address', async () => {
    const { a, repo } = app();
    const ok = await a.request('http://kansui.test/api/feature/thing', { method: 'POST', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' }, body: '{}' }, { incoming: { socket: { remoteAddress: '192.0.2.9' } } });
    expect(ok.status).toBe(200);
    expect(repo.list({ limit: 5 })).toMatchObject([{ actor: 'sato', action: 'http.write', targetType: 'route', targetId: 'POST /api/feature/thing', after: { status: 200 }, at: 7 }]);
  });
});
