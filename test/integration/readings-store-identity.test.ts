import Database from 'better-sqlite3';
import { copyFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import { makeTempDir, startTestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { getFreePort } from '../helpers/ports.ts';
import { spawnTs } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Issue 10 #11: after a clean stop, `truncate -s 0 readings.db` and a start
 * used to recreate the table, answer /healthz ok and log nothing, with every
 * reading gone. The real service process (services/main.ts) now refuses to
 * start on a readings store that is emptied, missing or replaced when kansui.db
 * says it held readings, naming the file and the way out; a restored backup
 * starts, and ACCEPT_NEW_READINGS_STORE=1 lets a deliberately new store in.
 */
describe('an emptied or replaced readings.db stops the start (issue 10 #11)', () => {
  const data = makeTempDir();
  const backup = makeTempDir();
  const children: { kill(signal: NodeJS.Signals): boolean; exitCode: number | null }[] = [];
  afterAll(() => {
    // Never leave a service behind, even when the test failed half-way.
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    data.remove();
    backup.remove();
  });
  const file = join(data.dir, 'readings.db');
  const T0 = Date.now() - 10 * 60_000;

  async function start(env: Record<string, string> = {}) {
    const [http, mqtt] = [await getFreePort(), await getFreePort()];
    const p = spawnTs('services/main.ts', [], { HTTP_PORT: String(http), MQTT_PORT: String(mqtt), HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', DATA_DIR: data.dir, LOG_LEVEL: 'info', ...env }, ROOT);
    children.push(p.child);
    const url = `http://127.0.0.1:${http}`;
    /** Resolves when /healthz answers 200, or with the exit code if the process ends first. */
    const outcome = await waitFor(
      async () => {
        if (p.child.exitCode !== null) return { exited: p.child.exitCode };
        return fetch(`${url}/healthz`).then((r) => (r.ok ? { exited: undefined } : undefined)).catch(() => undefined);
      },
      { timeoutMs: 120_000, intervalMs: 50, what: 'kansui to answer or exit' },
    );
    const logs = () => p.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const stop = async () => {
      if (p.child.exitCode === null) p.child.kill('SIGTERM');
      const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('no exit after 20 s'), 20_000))]);
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      return code;
    };
    return { p, url, mqtt, outcome, logs, stop };
  }

  async function expectRefused(found: RegExp) {
    const k = await start();
    if (k.outcome.exited === undefined) await k.stop();
    expect(k.outcome.exited).toBe(1);
    expect(k.p.err()).toContain(file);
    expect(k.p.err()).toMatch(found);
    expect(k.p.err()).toMatch(/restore readings\.db from a backup/);
    expect(k.p.err()).toContain('ACCEPT_NEW_READINGS_STORE=1');
    expect(k.p.err()).not.toMatch(/\n\s+at /); // a message, not a stack
    const fatal = k.logs().find((l) => l.level === 60);
    expect(fatal).toMatchObject({ file });
  }

  it('refuses emptied, fresh and missing stores, starts on a restored backup, and on a new store only with the override', async () => {
    // First start ever: no record, a new store; readings arrive over MQTT and are acknowledged.
    const db = openMetadataDatabase(data.dir);
    const { mqtt: cred } = registerSensor(createSqliteSensorRegistry(db), { id: 's1', name: '一', lat: 34.27, lon: 135.4 }, Date.now());
    db.close();
    const first = await start();
    expect(first.outcome.exited, `exited early; stderr: ${first.p.err().slice(-2000)}`).toBeUndefined();
    const c = await connectMqtt(`mqtt://127.0.0.1:${first.mqtt}`, { username: cred.username, password: cred.password });
    for (let i = 0; i < 3; i++) await publishReading(c, 's1', { ts: T0 + i * 60_000, level_cm: 10 + i });
    await c.endAsync();
    expect(await first.stop()).toBe(0);
    copyFileSync(file, join(backup.dir, 'readings.db')); // a backup of a cleanly stopped store (docs/operations.md)

    // The attack: truncate after a clean stop. The file is left as found (0 bytes).
    truncateSync(file, 0);
    await expectRefused(/the file is empty \(0 bytes\)/);
    expect(statSync(file).size).toBe(0);

    // Replaced by a fresh database, even one with the readings table in it.
    rmSync(file);
    new Database(file).exec('CREATE TABLE readings (sensor_id TEXT, observed_at INTEGER, level_cm REAL)').close();
    await expectRefused(/an empty database without a store id/);

    // Restored from the backup: starts, and the readings are there.
    copyFileSync(join(backup.dir, 'readings.db'), file);
    const restored = await start();
    expect(restored.outcome.exited, `exited early; stderr: ${restored.p.err().slice(-2000)}`).toBeUndefined();
    const body = (await (await fetch(`${restored.url}/api/sensors/s1/readings?from=${T0}&to=${T0 + 3 * 60_000}`)).json()) as { readings: { level_cm: number }[] };
    expect(body.readings.map((r) => r.level_cm)).toEqual([10, 11, 12]);
    expect(await restored.stop()).toBe(0);

    // A deliberately new store: started with the override (and a warning).
    truncateSync(file, 0);
    const accepted = await start({ ACCEPT_NEW_READINGS_STORE: '1' });
    expect(accepted.outcome.exited, `exited early; stderr: ${accepted.p.err().slice(-2000)}`).toBeUndefined();
    expect((await (await fetch(`${accepted.url}/healthz`)).json()).status).toBe('ok');
    expect(accepted.logs().find((l) => l.level === 40 && /ACCEPT_NEW_READINGS_STORE/.test(String(l.msg)))).toMatchObject({ file, found: 'the file is empty (0 bytes)' });
    expect(await accepted.stop()).toBe(0);
  }, 600_000); // five starts of the real process: ~20 s each measured on this 2-core machine at load 25, 120 s allowed
});

/** The same check in-process (fast): the cases around the process test. */
describe('readings store identity, in-process (issue 10 #11)', () => {
  it('a deleted readings.db is refused once readings were stored; an accepted new store is then the store; a store that never held readings is replaced quietly', async () => {
    const data = makeTempDir();
    const NOW = Date.now();
    try {
      const file = join(data.dir, 'readings.db');
      // Never held readings: deleting it is no loss.
      await (await startTestKansui({}, { dataDir: data.dir })).stop();
      rmSync(file);
      const k = await startTestKansui({}, { dataDir: data.dir });
      // A reading through the ingest (as MQTT and webhooks store them) marks the store as holding readings.
      const { mqtt: cred } = registerSensor(k.registry, { id: 's1', name: '一', lat: 34.27, lon: 135.4 }, NOW);
      const c = await connectMqtt(k.mqttUrl!, { username: cred.username, password: cred.password });
      await publishReading(c, 's1', { ts: NOW - 1000, level_cm: 3 });
      await c.endAsync();
      await k.stop();

      rmSync(file);
      const refused = await startTestKansui({}, { dataDir: data.dir }).then(
        async (x) => (await x.stop(), undefined),
        (err: Error) => err,
      );
      expect(refused?.name).toBe('ReadingsStoreMismatchError');
      expect(refused?.message).toContain(`${file} is not the readings store kansui last used`);
      expect(refused?.message).toContain('the file is missing');

      await (await startTestKansui({ ACCEPT_NEW_READINGS_STORE: 'true' }, { dataDir: data.dir })).stop();
      // Accepted once: the new store is the recorded one, no override needed again.
      await (await startTestKansui({}, { dataDir: data.dir })).stop();
    } finally {
      data.remove();
    }
  });
});
