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
      const mapUrl = await waitFor(() => /demo: map: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out())?.[1], { timeoutMs: 60_000, what: () => `map URL (stdout: ${out()}; stderr: ${err()})` });
      // The demo starts its storm right after printing the map's address, so a
      // stream opened now may already have missed the first (normal) readings
      // on a loaded machine. Ask for everything since this boot instead: the
      // first block of a fresh stream is its position `<boot>-<seq>`, and
      // Last-Event-ID `<boot>-0` replays from the boot's first event (the hub
      // keeps 10,000; a stale id would come back as `resync`, failing below).
      const probe = openSse(`${mapUrl}api/events`);
      const position = await probe.waitFor((e) => e.id !== undefined, { timeoutMs: 10_000, what: "the stream's position block" });
      await probe.close();
      const boot = position.id!.split('-')[0];
      const sse = openSse(`${mapUrl}api/events`, { 'Last-Event-ID': `${boot}-0` });
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
        if (e.event === 'resync') throw new Error('the replay from the boot start was refused (resync)');
        if (e.event !== 'reading') return false;
        const d = JSON.parse(e.data);
        if (d.sensor_id === 'kinokawa-uchita-up' && seen.at(-1) !== d.status) seen.push(d.status);
        return seen.includes('danger') && seen.at(-1) === 'normal';
      }, { timeoutMs: 40_000, what: () => `kinokawa-uchita-up through danger and back to normal (statuses so far: ${seen.join(' → ') || 'none'})` });
      expect(seen[0]).toBe('normal');
      expect(seen).toContain('danger');
      await sse.close();
      expect(out()).toMatch(/kinokawa-uchita-up: \w+ → danger/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))])).toBe(0);
    expect(out()).toMatch(/demo: stopped/);
    // Measured on a 2-core machine with two CPU hogs and other test runs beside it: the demo
    // alone took 20+ s to print its map address there (issue 16), hence the roomy overall limit.
  }, 150_000);
});
