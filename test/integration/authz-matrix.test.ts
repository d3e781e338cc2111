import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRole, type Role } from '../../services/core/auth.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { createTestToken, createTestUser, signIn } from '../helpers/console.ts';
import { startLineApiServer, type LineApiServer } from '../helpers/line-api-server.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NON_ADMIN_ROLES: Role[] = ['technician', 'staff'];

/**
 * State-changing routes anyone may call, each with the reason. They must
 * still refuse cross-origin requests (checked below). Anything else that
 * changes state must be guarded with `requireRole` (services/auth/middleware.ts),
 * whose roles this test reads from app.routes — a route added later without
 * a guard fails here until it gets one or an entry with a reason.
 */
const PUBLIC_WRITES: { method: string; path: RegExp; why: string }[] = [
  { method: 'POST', path: /^\/api\/session$/, why: 'signing in is what an anonymous caller does' },
  // Residents subscribe to Web Push for the sensors they pick without an account (issues 4 and 6).
  { method: 'POST', path: /^\/api\/push\//, why: 'resident push subscriptions: no account, rate-limited by their owner' },
  { method: 'DELETE', path: /^\/api\/push\//, why: 'resident unsubscribes with the subscription itself as the secret' },
  // LINE's platform posts residents' events; it proves itself with X-Line-Signature, checked before parsing (issue 14).
  { method: 'POST', path: /^\/api\/line\/webhook$/, why: "LINE's platform, authenticated by the channel secret's signature" },
];

type RouteEntry = { method: string; path: string; handler: { roles?: readonly Role[] } };

/**
 * `/api/sensors/:id/credentials` → `/api/sensors/999999/credentials`: an id
 * nothing has (404 after auth is fine), so the admin's own requests cannot
 * revoke its token or disable its user halfway through the matrix.
 */
function concrete(path: string): string {
  return path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, (_m, name: string) => (name === 'id' ? '999999' : `authz-${name}`)).replace(/\*$/, 'x');
}

describe('authorization matrix: every state-changing route the app has', () => {
  let k: TestKansui;
  let line: LineApiServer;
  const tokens = {} as Record<Role, string>;
  let adminCookie: string;
  let routes: { method: string; path: string; roles: readonly Role[] | undefined; public: (typeof PUBLIC_WRITES)[number] | undefined }[];

  beforeAll(async () => {
    // Every optional feature with routes of its own is turned on, so its routes are in the matrix too.
    line = await startLineApiServer('matrix-line-token');
    k = await startTestKansui({
      LINE_CHANNEL_TOKEN: 'matrix-line-token',
      LINE_CHANNEL_SECRET: 'matrix-line-secret',
      LINE_API_BASE: line.baseUrl,
      ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${line.port}`,
    });
    tokens.admin = createTestToken(k, 'matrix-admin', 'admin');
    tokens.technician = createTestToken(k, 'matrix-tech', 'technician');
    tokens.staff = createTestToken(k, 'matrix-staff', 'staff');
    await createTestUser(k, 'matrix-browser', 'admin');
    adminCookie = await signIn(k, 'matrix-browser');

    const all = k.app.routes as unknown as RouteEntry[];
    // A guard may also be mounted as middleware: app.use('/api/x/*', requireRole('staff')).
    const guardMiddleware = all.filter((r) => r.method === 'ALL' && Array.isArray(r.handler.roles));
    const coveredBy = (path: string) =>
      guardMiddleware.find((m) => m.path === path || (m.path.endsWith('/*') && path.startsWith(m.path.slice(0, -1))))?.handler.roles;
    const byRoute = new Map<string, RouteEntry[]>();
    for (const r of all) {
      if (!STATE_CHANGING.has(r.method)) continue;
      const key = `${r.method} ${r.path}`;
      byRoute.set(key, [...(byRoute.get(key) ?? []), r]);
    }
    routes = [...byRoute.values()].map((entries) => {
      const { method, path } = entries[0] as RouteEntry;
      return {
        method,
        path,
        roles: entries.find((e) => Array.isArray(e.handler.roles))?.handler.roles ?? coveredBy(path),
        public: PUBLIC_WRITES.find((p) => p.method === method && p.path.test(path)),
      };
    });
  });
  afterAll(async () => {
    await k?.dispose();
    await line?.close();
  });

  const send = (method: string, path: string, headers: Record<string, string>) =>
    fetch(`${k.httpUrl}${concrete(path)}`, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });

  it('finds the routes (not vacuous) and every one is either guarded by requireRole or on the commented public list', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of ['POST /api/sensors', 'PATCH /api/sensors/:id', 'POST /api/sensors/:id/credentials', 'DELETE /api/sensors/:id/credentials', 'POST /api/users', 'DELETE /api/session', 'POST /api/line/webhook', 'PUT /api/line/settings', 'POST /api/closures', 'DELETE /api/closures/:id', 'POST /api/integrations/ttn', 'POST /api/integrations/chirpstack']) {
      expect(names).toContain(expected);
    }
    const unguarded = routes.filter((r) => !r.roles && !r.public).map((r) => `${r.method} ${r.path}`);
    expect(unguarded, 'state-changing routes with neither requireRole nor a PUBLIC_WRITES entry').toEqual([]);
  });

  it('anonymous → 401 on every guarded route', async () => {
    for (const r of routes.filter((x) => x.roles)) {
      const res = await send(r.method, r.path, { Origin: k.httpUrl });
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
  });

  it('a role the route does not allow → 403 (each non-admin role, by bearer token)', async () => {
    let checked = 0;
    for (const r of routes.filter((x) => x.roles)) {
      for (const role of NON_ADMIN_ROLES.filter((role) => !hasRole(role, r.roles!))) {
        const res = await send(r.method, r.path, { Origin: k.httpUrl, Authorization: `Bearer ${tokens[role]}` });
        expect(res.status, `${role}: ${r.method} ${r.path}`).toBe(403);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('cross-origin → 403 on every state-changing route, public ones included, whoever is signed in', async () => {
    for (const r of routes) {
      const evil = { Origin: 'https://evil.example' };
      expect((await send(r.method, r.path, evil)).status, `anonymous ${r.method} ${r.path}`).toBe(403);
      expect((await send(r.method, r.path, { ...evil, Cookie: adminCookie })).status, `session ${r.method} ${r.path}`).toBe(403);
      expect((await send(r.method, r.path, { ...evil, Authorization: `Bearer ${tokens.admin}` })).status, `token ${r.method} ${r.path}`).toBe(403);
      expect((await send(r.method, r.path, { 'Sec-Fetch-Site': 'cross-site', Cookie: adminCookie })).status, `fetch-metadata ${r.method} ${r.path}`).toBe(403);
    }
  });

  it('the right role gets past the guard (neither 401 nor 403) on the console routes', async () => {
    for (const r of routes.filter((x) => x.roles && !x.path.startsWith('/api/session'))) {
      const res = await send(r.method, r.path, { Origin: k.httpUrl, Authorization: `Bearer ${tokens.admin}` });
      expect([401, 403], `${r.method} ${r.path} → ${res.status}`).not.toContain(res.status);
    }
  });
});
