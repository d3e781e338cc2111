import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/kansui.ts';
import { getFreePort } from '../helpers/ports.ts';
import { npmScriptArgs, spawnTs } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run exactly what `npm start` runs (its node flags from package.json). */
const START = npmScriptArgs('start', ROOT);
const startMain = (env: Record<string, string>) => spawnTs(START.at(-1)!, [], { LOG_LEVEL: 'info', ...env }, ROOT, START.slice(0, -1));

describe('the service process (npm start)', () => {
  const data = makeTempDir();
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
});
