import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKansuiCli } from '../helpers/cli.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { TEST_PASSWORD, consoleFetch, signIn } from '../helpers/console.ts';

describe('kansui user add / token add (real CLI process, service running on the same DATA_DIR)', () => {
  let k: TestKansui;
  beforeAll(async () => {
    k = await startTestKansui();
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('creates the first admin with the password from stdin; that admin signs in to the running service', async () => {
    const r = await runKansuiCli(['user', 'add', '--username', 'first-admin', '--role', 'admin'], k.dataDir, TEST_PASSWORD + '\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ username: 'first-admin', role: 'admin' });
    const cookie = await signIn(k, 'first-admin');
    expect(await (await consoleFetch(k, 'GET', '/api/session', { cookie })).json()).toMatchObject({ role: 'admin' });
  });

  it('never takes a password from argv, refuses a short one, and a role that does not exist', async () => {
    const argv = await runKansuiCli(['user', 'add', '--username', 'x1', '--role', 'staff', '--password', TEST_PASSWORD], k.dataDir, '');
    expect(argv.code).toBe(2);
    const short = await runKansuiCli(['user', 'add', '--username', 'x2', '--role', 'staff'], k.dataDir, 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 15 characters/);
    const role = await runKansuiCli(['user', 'add', '--username', 'x3', '--role', 'root'], k.dataDir, TEST_PASSWORD + '\n');
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role/);
  });

  it('prints one API token that works as a bearer token with the user\'s role', async () => {
    await runKansuiCli(['user', 'add', '--username', 'city-script', '--role', 'technician'], k.dataDir, TEST_PASSWORD + '\n');
    const r = await runKansuiCli(['token', 'add', '--username', 'city-script'], k.dataDir);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^ksu_[A-Za-z0-9_-]{43}$/);
    const created = await consoleFetch(k, 'POST', '/api/sensors', { token, origin: null, body: { id: 'from-script', name: 'スクリプト', lat: 34, lon: 135 } });
    expect(created.status).toBe(201);
    expect((await consoleFetch(k, 'GET', '/api/users', { token, origin: null })).status).toBe(403);
  });
});
