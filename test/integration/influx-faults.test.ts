import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { getFreePort } from '../helpers/ports.ts';
import { createLedger, registerSensors, registerSensorsInDataDir, startSteadyPublisher, type PublishLedger, type SteadyPublisher } from '../helpers/steady-publisher.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every acknowledged reading is in InfluxDB, exactly once, and nothing is there that was never published. */
async function expectExactlyOnce(influx: RunningInfluxd, ledger: PublishLedger): Promise<void> {
  const keys = await influx.pointKeys();
  const stored = new Set(keys);
  expect(keys.length, 'a point stored twice').toBe(stored.size);
  const missing = [...ledger.acked].filter((k) => !stored.has(k));
  expect(missing, `${missing.length} acknowledged readings missing from InfluxDB`).toEqual([]);
  const unknown = keys.filter((k) => !ledger.published.has(k));
  expect(unknown).toEqual([]);
}

describe('STORE=influx under InfluxDB outages and ingest crashes', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('an unreachable INFLUX_URL at start is logged clearly; the service starts, acknowledges from the spool and reports degraded', async () => {
    const logs: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    const deadPort = await getFreePort();
    const k = await startTestKansui({ STORE: 'influx', INFLUX_URL: `http://127.0.0.1:${deadPort}` }, { logger: pino({ level: 'info' }, sink) });
    cleanups.push(() => k.dispose());
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: expect.stringMatching(/InfluxDB is not accepting writes; readings are spooled/), influx_url: `http://127.0.0.1:${deadPort}` }),
    );
    const [sensor] = registerSensors(k.registry, 'dead', 1);
    const client = await connectMqtt(k.mqttUrl!, { username: sensor!.id, password: sensor!.password });
    cleanups.push(() => client.endAsync(true));
    await publishReading(client, sensor!.id, { level_cm: 12 });
    expect(k.store.stats?.().spooled).toBe(1);
    const health = await fetch(`${k.httpUrl}/healthz`);
    expect(health.status).toBe(503);
    expect((await health.json()).checks.store).toBe(false);
    expect((await (await fetch(`${k.httpUrl}/api/sensors/${sensor!.id}`)).json()).properties.level_cm).toBe(12);
  });

  it('SIGKILL and SIGSTOP of influxd under a steady publish rate lose no acknowledged reading', async () => {
    const influx = await startInfluxd();
    cleanups.push(() => influx.stop());
    const k: TestKansui = await startTestKansui({ STORE: 'influx', INFLUX_URL: influx.url, INFLUX_TIMEOUT_MS: '400' });
    cleanups.push(() => k.dispose());
    const sensors = registerSensors(k.registry, 'flt', 5);
    const ledger = createLedger();
    const pub: SteadyPublisher = await startSteadyPublisher({ url: k.mqttUrl!, sensors, ratePerSecond: 300, ledger });
    cleanups.push(() => pub.stop({ waitForAcks: false }));
    const stats = () => k.store.stats?.() ?? { spooled: -1, writeErrors: {} as Record<string, number> };

    await waitFor(() => ledger.acked.size >= 200, { what: '200 readings acknowledged with InfluxDB up' });
    await influx.kill();
    // While it is dead: readings keep being acknowledged, from the spool.
    const atKill = ledger.acked.size;
    await waitFor(() => stats().spooled >= 300 && ledger.acked.size >= atKill + 300, { what: 'spool to fill while influxd is dead', timeoutMs: 15_000 });
    await influx.restart();
    await waitFor(() => stats().spooled === 0, { what: 'spool to drain after restart', timeoutMs: 20_000 });

    const atPause = ledger.acked.size;
    await influx.pause();
    try {
      await waitFor(() => stats().spooled >= 200 && ledger.acked.size >= atPause + 200, { what: 'spool to fill while influxd is stopped', timeoutMs: 15_000 });
    } finally {
      influx.resume();
    }
    await waitFor(() => stats().spooled === 0 && ledger.acked.size >= atPause + 400, { what: 'drain after SIGCONT', timeoutMs: 20_000 });
    await pub.stop();
    await k.ingest.drain();
    await waitFor(() => stats().spooled === 0, { what: 'final drain' });

    expect(ledger.acked.size).toBe(ledger.published.size);
    await expectExactlyOnce(influx, ledger);
    const errors = stats().writeErrors;
    expect((errors.network ?? 0) + (errors.server ?? 0)).toBeGreaterThan(0);
    expect(errors.timeout).toBeGreaterThan(0);
    expect(k.store.stats?.().quarantined).toBe(0);

    const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^kansui_store_spool_readings 0$/m);
    expect(metrics).toMatch(/^kansui_store_backend_write_errors_total\{kind="timeout"\} [1-9]/m);
    expect(metrics).toMatch(/^kansui_store_quarantined_total 0$/m);
  });

  it('SIGKILL of the kansui process mid-stream (InfluxDB up, then down) loses no reading the broker acknowledged', async () => {
    const influx = await startInfluxd();
    cleanups.push(() => influx.stop());
    const temp = makeTempDir('kansui-crash-');
    cleanups.push(() => temp.remove());
    const sensors = registerSensorsInDataDir(temp.dir, 'crash', 4);
    const mqttPort = await getFreePort();
    const httpPort = await getFreePort();
    const env = {
      ...process.env,
      STORE: 'influx',
      INFLUX_URL: influx.url,
      INFLUX_TIMEOUT_MS: '400',
      DATA_DIR: temp.dir,
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG ?? 'silent',
    };
    let child: ChildProcess | undefined;
    const killChild = async () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    };
    cleanups.push(killChild);
    const startChild = async () => {
      child = spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
      const c = child;
      await waitFor(
        async () => {
          if (c.exitCode !== null) throw new Error(`kansui exited with ${c.exitCode}`);
          const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`).catch(() => undefined);
          return res?.ok;
        },
        { timeoutMs: 30_000, what: 'kansui child to serve /metrics' },
      );
    };
    const spooled = async () => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return Number(/^kansui_store_spool_readings (\d+)/m.exec(text)?.[1] ?? NaN);
    };
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const ledger = createLedger();

    // 1. InfluxDB up: kill the ingest while readings stream in.
    await startChild();
    let pub = await startSteadyPublisher({ url, sensors, ratePerSecond: 400, ledger });
    await waitFor(() => ledger.acked.size >= 300, { what: '300 acknowledged before the first crash' });
    await killChild();
    await pub.stop({ waitForAcks: false });

    // 2. Restart on the same DATA_DIR; take InfluxDB away so readings are spooled; kill the ingest again.
    await startChild();
    pub = await startSteadyPublisher({ url, sensors, ratePerSecond: 400, ledger });
    await waitFor(() => ledger.acked.size >= 500, { what: 'acknowledged after restart' });
    await influx.kill();
    await waitFor(async () => (await spooled()) >= 200, { what: 'readings spooled while InfluxDB is dead', timeoutMs: 15_000 });
    await killChild();
    await pub.stop({ waitForAcks: false });

    // 3. Both back: the spool left by the killed process drains; more readings flow meanwhile.
    await influx.restart();
    await startChild();
    pub = await startSteadyPublisher({ url, sensors, ratePerSecond: 400, ledger });
    const before = ledger.acked.size;
    await waitFor(() => ledger.acked.size >= before + 200, { what: 'acknowledged after the second restart' });
    await pub.stop();
    await waitFor(async () => (await spooled()) === 0, { what: 'spool drained', timeoutMs: 20_000 });

    expect(ledger.acked.size).toBeGreaterThan(700);
    await expectExactlyOnce(influx, ledger);
  });
});
