import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteReadingStore } from '../../services/storage/sqlite-reading-store.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { getFreePort } from '../helpers/ports.ts';
import { spawnTs } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/**
 * Issue 10 #14: the SQLite writer thread died and nobody noticed: the process
 * stayed up and withheld every PUBACK. Now a dead writer is replaced and its
 * unanswered batches re-sent (stored once), and a writer that keeps dying ends
 * the process non-zero for its supervisor. The writers are killed for real.
 */
describe('the SQLite writer thread dies (issue 10 #14)', () => {
  const temp = makeTempDir();
  const workers: Worker[] = [];
  const logLines: Record<string, unknown>[] = [];
  let k: TestKansui;
  let sensor: { username: string; password: string };
  const NOW = Date.now();

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const store = createSqliteReadingStore({ dataDir: temp.dir, testHooks: { onWriterStarted: (w) => workers.push(w) } });
    k = await startTestKansui({}, { store, dataDir: temp.dir, logger: pino({ level: 'info' }, sink) });
    sensor = registerSensor(k.registry, { id: 's1', name: '一', lat: 34.27, lon: 135.4 }, NOW).mqtt;
  });
  afterAll(async () => {
    await k?.dispose();
    temp.remove();
  });

  const countAt = async (observedAt: number) => (await k.store.range({ sensorId: 's1', from: observedAt, to: observedAt })).length;

  it('a killed writer is replaced: readings published afterwards are PUBACKed and stored once, even a batch committed whose answer was lost', async () => {
    const c = await connectMqtt(k.mqttUrl!, { username: sensor.username, password: sensor.password });
    try {
      const ts = (i: number) => NOW - 60_000 + i * 1000;
      await publishReading(c, 's1', { ts: ts(0), level_cm: 1 });
      expect(await countAt(ts(0))).toBe(1);

      // Killed while idle: the next readings go to a new thread.
      expect(await workers[0]!.terminate()).toBe(1);
      await waitFor(() => workers.length === 2, { what: 'a new writer thread' });
      await Promise.all([publishReading(c, 's1', { ts: ts(1), level_cm: 2 }), publishReading(c, 's1', { ts: ts(2), level_cm: 3 })]);

      // Killed with a batch on its way: terminate, and publish before its exit is seen; the batch is re-sent.
      void workers[1]!.terminate();
      await publishReading(c, 's1', { ts: ts(3), level_cm: 4 });
      // (The thread may have answered that batch before it stopped; either way it is replaced.)
      await waitFor(() => workers.length === 3, { what: 'the third writer thread' });

      // Dies right after COMMIT, before answering: the batch is re-sent, committed again as a no-op, and stored once.
      workers[2]!.postMessage({ type: 'exit-after-commit' });
      await publishReading(c, 's1', { ts: ts(4), level_cm: 5 });
      expect(workers).toHaveLength(4);
      await publishReading(c, 's1', { ts: ts(5), level_cm: 6 });

      const stored = await k.store.range({ sensorId: 's1', from: ts(0), to: ts(5) });
      expect(stored.map((r) => r.levelCm)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await metric(k.httpUrl, 'kansui_store_writer_restarts_total')).toBe(3);
      expect((await fetch(`${k.httpUrl}/healthz`)).status).toBe(200);
      const died = logLines.filter((l) => l.msg === 'readings writer thread died; started a new one and re-sent its unanswered batches');
      expect(died).toHaveLength(3);
      expect(died.map((l) => l.level)).toEqual([50, 50, 50]);
      expect(died.map((l) => l.resent_batches)).toEqual([0, expect.any(Number), 1]);
    } finally {
      await c.endAsync();
    }
  });
});

describe('a writer thread that keeps dying ends the process (issue 10 #14)', () => {
  const data = makeTempDir();
  afterAll(() => data.remove());

  it('exits 1 with a fatal log line after SQLITE_WRITER_MAX_RESTARTS respawns, having served readings before', async () => {
    const db = openMetadataDatabase(data.dir);
    const { mqtt: cred } = registerSensor(createSqliteSensorRegistry(db), { id: 's1', name: '一', lat: 34.27, lon: 135.4 }, Date.now());
    db.close();
    const [http, mqtt] = [await getFreePort(), await getFreePort()];
    const p = spawnTs('test/helpers/writer-crash-main.ts', [], {
      HTTP_PORT: String(http),
      MQTT_PORT: String(mqtt),
      HTTP_HOST: '127.0.0.1',
      MQTT_HOST: '127.0.0.1',
      DATA_DIR: data.dir,
      LOG_LEVEL: 'info',
      SQLITE_WRITER_MAX_RESTARTS: '3',
    }, ROOT);
    try {
      await waitFor(() => fetch(`http://127.0.0.1:${http}/healthz`).then((r) => r.ok).catch(() => false), { timeoutMs: 120_000, what: 'the service to answer' });
      const c = await connectMqtt(`mqtt://127.0.0.1:${mqtt}`, { username: cred.username, password: cred.password });
      await publishReading(c, 's1', { level_cm: 7 });
      c.end(true);
      p.child.kill('SIGUSR2');
      const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
      expect(code).toBe(1);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
    const lines = p.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'readings writer thread died; started a new one and re-sent its unanswered batches')).toHaveLength(3);
    const fatal = lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ restarts_in_window: 3, window_s: 60 });
    expect(fatal?.msg).toMatch(/readings writer thread keeps dying.*exits/);
  }, 240_000); // one start of the real process (~20 s at load 25 on this 2-core machine) and its crash loop
});
