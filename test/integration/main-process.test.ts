import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/kansui.ts';
import { getFreePort } from '../helpers/ports.ts';
import { buildIfStale, npmScriptArgs, spawnTs } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run exactly what `npm start` runs (its node flags from package.json), after its prestart build. */
const START = npmScriptArgs('start', ROOT);
const startMain = (env: Record<string, string>) => spawnTs(START.at(-1)!, [], { LOG_LEVEL: 'info', ...env }, ROOT, START.slice(0, -1));

describe('the service process (npm start)', () => {
  const data = makeTempDir();
  beforeAll(() => buildIfStale(ROOT), 180_000);
  afterAll(() => data.remove());

  it('starts on the embedded defaults, answers /healthz, logs JSON lines, and stops cleanly on SIGTERM', async () => {
    const [http, mqtt] = [await getFreePort(), await getFreePort()];
    const p = startMain({ HTTP_PORT: String(http), MQTT_PORT: String(mqtt), HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', DATA_DIR: data.dir });
    try {
      const health = await waitFor(() => fetch(`http://127.0.0.1:${http}/healthz`).then((r) => r.json()).catch(() => undefined), {
        timeoutMs: 30_000,
        what: 'the service to answer',
      });
      expect(health.status).toBe('ok');
      const started = p.out().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === 'kansui started');
      expect(started).toMatchObject({ http_port: http, mqtt_port: mqtt, store: 'sqlite' });
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('kansui stopped');
  });

  it('refuses to start on bad configuration, naming the variable', async () => {
    const p = startMain({ HTTP_PORT: 'eighty', DATA_DIR: data.dir });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/HTTP_PORT/);
  });

  it('the production start is the compiled JavaScript, without tsx (issue 15)', () => {
    expect(START.at(-1)).toBe('dist/services/main.js');
    expect(START.join(' ')).not.toMatch(/tsx/);
  });
});

/**
 * A fresh checkout after `npm install` (issue 15): no dist/ yet, so `npm start`
 * builds it first (prestart) and the compiled service finds its non-TypeScript
 * parts from dist/: the SQLite writer thread (.mjs), web/ and Leaflet.
 */
describe('npm start on a fresh checkout', () => {
  const checkout = makeTempDir('kansui-checkout-');
  const data = makeTempDir();
  afterAll(() => (checkout.remove(), data.remove()));

  it('builds dist/ and serves /healthz, the map page and Leaflet from the compiled service', async () => {
    for (const p of ['services', 'web', 'firmware-sim', 'scripts', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(ROOT, p), join(checkout.dir, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout.dir, 'node_modules'));
    const http = await getFreePort();
    const npm = join(process.execPath, '..', 'npm');
    // Its own process group, so stopping it stops npm and the node it started.
    const child = spawn(existsSync(npm) ? npm : 'npm', ['start', '--silent'], {
      cwd: checkout.dir,
      detached: true,
      env: { ...process.env, HTTP_PORT: String(http), MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', DATA_DIR: data.dir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const health = await waitFor(() => fetch(`http://127.0.0.1:${http}/healthz`).then((r) => r.json()).catch(() => (child.exitCode !== null ? Promise.reject(new Error(err)) : undefined)), {
        timeoutMs: 120_000,
        what: 'npm start to build and answer',
      });
      expect(health).toMatchObject({ status: 'ok', checks: { store: true } });
      expect(existsSync(join(checkout.dir, 'dist/services/main.js'))).toBe(true);
      expect(existsSync(join(checkout.dir, 'dist/services/storage/sqlite-writer.mjs'))).toBe(true);
      const page = await fetch(`http://127.0.0.1:${http}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      expect((await fetch(`http://127.0.0.1:${http}/vendor/leaflet/leaflet.js`)).status).toBe(200);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
    }
    await exited;
  }, 180_000);

  it('two builds started together (two npm starts, two test files) both succeed and leave one whole dist/', async () => {
    const run = () =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['scripts/build.mjs'], { cwd: checkout.dir, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code));
      });
    expect(await Promise.all([run(), run()])).toEqual([0, 0]);
    expect(existsSync(join(checkout.dir, 'dist/services/main.js'))).toBe(true);
    expect(existsSync(join(checkout.dir, 'dist/web/index.html'))).toBe(true);
    expect(readdirSync(checkout.dir).filter((n) => n.startsWith('.dist-'))).toEqual([]); // no temp tree or lock left
  }, 180_000);
});
