import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_SITES } from '../../firmware-sim/demo-sites.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { spawnTs } from '../helpers/process.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const DEMO = fileURLToPath(new URL('../../firmware-sim/demo.ts', import.meta.url));

describe('npm run demo', () => {
  const temp = makeTempDir('kansui-demo-');
  afterAll(() => temp.remove());

  it('starts the service, registers ten Kinokawa sensors, takes the map normal → danger → normal, and stops cleanly on Ctrl-C', async () => {
    // ×3600: the 60-minute rise takes one second and the whole storm about six.
    const { child, exited, out, err } = spawnTs(DEMO, ['--time-scale', '3600', '--interval', '0.1'], {
      HTTP_PORT: '0', MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', DATA_DIR: temp.dir,
    });
    try {
      const mapUrl = await waitFor(() => /demo: map: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out())?.[1], { timeoutMs: 20_000, what: `map URL (stderr: ${err()})` });
      const sse = openSse(`${mapUrl}api/events`);
      const sensors = await (await fetch(`${mapUrl}api/sensors`)).json();
      expect(sensors.features.map((f: { id: string }) => f.id).sort()).toEqual(DEMO_SITES.map((s) => s.register.id).sort());
      for (const f of sensors.features) {
        expect(f.geometry.coordinates[1]).toBeGreaterThan(34.2);
        expect(f.geometry.coordinates[1]).toBeLessThan(34.35);
        expect(f.geometry.coordinates[0]).toBeGreaterThan(135.3);
        expect(f.geometry.coordinates[0]).toBeLessThan(135.5);
      }
      expect(sensors.features.some((f: { properties: { danger?: number; thresholds?: { danger: number } } }) => (f.properties.thresholds?.danger ?? f.properties.danger) === 350)).toBe(true);

      // Follow one underpass through the storm.
      const seen: string[] = [];
      await sse.waitFor((e) => {
        if (e.event !== 'reading') return false;
        const d = JSON.parse(e.data);
        if (d.sensor_id === 'kinokawa-uchita-up' && seen.at(-1) !== d.status) seen.push(d.status);
        return seen.includes('danger') && seen.at(-1) === 'normal';
      }, 20_000);
      expect(seen[0]).toBe('normal');
      expect(seen).toContain('danger');
      await sse.close();
      expect(out()).toMatch(/kinokawa-uchita-up: \w+ → danger/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))])).toBe(0);
    expect(out()).toMatch(/demo: stopped/);
  });
});
