import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../services/core/errors.ts';
import type { ReadingStore } from '../../services/core/ports.ts';
import type { Reading } from '../../services/core/reading.ts';
import { createInfluxReadingStore, type InfluxReadingStoreOptions, type InfluxStoreEvent } from '../../services/storage/influx-reading-store.ts';
import { INFLUX_ADMIN, startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { makeTempDir } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const T0 = Date.now() - 60_000;

function readings(sensorId: string, count: number, extra: (i: number) => Partial<Reading> = () => ({})): Reading[] {
  return Array.from({ length: count }, (_, i) => ({ sensorId, observedAt: T0 + i, levelCm: i % 50, ...extra(i) }));
}

describe('InfluxDB store: spool, replay and quarantine against a real influxd', () => {
  let influx: RunningInfluxd;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function open(db: string, extra: Partial<InfluxReadingStoreOptions> = {}, dataDir?: string) {
    const temp = dataDir ? undefined : makeTempDir('kansui-influx-store-');
    if (temp) cleanups.push(() => temp.remove());
    const events: InfluxStoreEvent[] = [];
    const store = await createInfluxReadingStore({
      dataDir: dataDir ?? (temp as { dir: string }).dir,
      url: influx.url,
      database: db,
      retryMinMs: 50,
      retryMaxMs: 200,
      onEvent: (e) => events.push(e),
      ...extra,
    });
    cleanups.push(() => store.close());
    return { store, events, dataDir: dataDir ?? (temp as { dir: string }).dir };
  }

  async function count(db: string, sensorId: string): Promise<number> {
    const r = await influx.query(`SELECT COUNT(level_cm) FROM water_level WHERE sensor_id = '${sensorId}'`, db);
    return (r.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
  }

  it('starts while InfluxDB is down, says so, spools durably, serves latest from the spool and replays when it is back', async () => {
    await influx.query('CREATE DATABASE down_at_start', '');
    await influx.kill();
    let store: ReadingStore | undefined;
    try {
      const opened = await open('down_at_start');
      store = opened.store;
      expect(opened.events[0]).toMatchObject({ type: 'unreachable', kind: 'network' });
      const result = await store.write(readings('down', 300));
      expect(result).toEqual({ written: 300, duplicates: 0 });
      expect(store.stats?.()).toMatchObject({ spooled: 300 });
      // More batches while it is down go straight to the spool and do not make the drainer retry each time.
      const errorsBefore = store.stats?.().writeErrors.network ?? 0;
      for (let i = 1; i <= 30; i++) await store.write(readings('down', 300 + i * 10).slice(300 + (i - 1) * 10));
      expect(store.stats?.().spooled).toBe(600);
      expect((store.stats?.().writeErrors.network ?? 0) - errorsBefore).toBeLessThan(10);
      expect(await store.healthy()).toBe(false);
      await expect(store.range({ sensorId: 'down', from: T0, to: T0 + 1000 })).rejects.toBeInstanceOf(DomainError);
      expect((await store.latest()).get('down')?.observedAt).toBe(T0 + 599);
    } finally {
      await influx.restart();
    }
    const s = store as ReadingStore;
    await waitFor(() => s.stats?.().spooled === 0, { what: 'spool to drain', timeoutMs: 15_000 });
    expect(await count('down_at_start', 'down')).toBe(600);
    expect(await s.healthy()).toBe(true);
    expect((await s.range({ sensorId: 'down', from: T0, to: T0 + 1000 })).length).toBe(600);
  });

  it('a spool left by a stopped process is replayed by the next one on the same DATA_DIR', async () => {
    await influx.query('CREATE DATABASE reopen', '');
    const temp = makeTempDir('kansui-influx-reopen-');
    cleanups.push(() => temp.remove());
    await influx.kill();
    try {
      const first = await createInfluxReadingStore({ dataDir: temp.dir, url: influx.url, database: 'reopen' });
      await first.write(readings('reopen', 120));
      expect(first.stats?.().spooled).toBe(120);
      await first.close();
    } finally {
      await influx.restart();
    }
    const { store } = await open('reopen', {}, temp.dir);
    await waitFor(() => store.stats?.().spooled === 0, { what: 'replay after reopen' });
    expect(await count('reopen', 'reopen')).toBe(120);
  });

  it('a batch refused for one bad line is bisected: the bad lines are quarantined, every other line is written', async () => {
    await influx.query('CREATE DATABASE bisect', '');
    // Make battery_v a string field in this shard: every float battery_v after it is a type conflict (HTTP 400).
    const res = await fetch(`${influx.url}/write?db=bisect&precision=ms`, { method: 'POST', body: `water_level,sensor_id=poison battery_v="x" ${T0}` });
    expect(res.status).toBe(204);
    const { store, events } = await open('bisect');
    const batch = readings('q', 200, (i) => (i === 17 || i === 133 ? { batteryV: 3.3 } : {}));
    expect(await store.write(batch)).toEqual({ written: 200, duplicates: 0 });
    expect(await count('bisect', 'q')).toBe(198);
    const stats = store.stats?.();
    expect(stats).toMatchObject({ spooled: 0, quarantined: 2 });
    expect(stats?.writeErrors.bad_line).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'quarantined').map((e) => (e as { line: string }).line)).toEqual([
      `water_level,sensor_id=q level_cm=17,battery_v=3.3 ${T0 + 17}`,
      `water_level,sensor_id=q level_cm=33,battery_v=3.3 ${T0 + 133}`,
    ]);
  });

  it('a hung InfluxDB (SIGSTOP) makes writes spool after the timeout; SIGCONT drains them', async () => {
    await influx.query('CREATE DATABASE hung', '');
    const { store, events } = await open('hung', { writeTimeoutMs: 300 });
    await store.write(readings('hung', 10));
    await influx.pause();
    try {
      const started = Date.now();
      await store.write(readings('hung', 50).slice(10));
      expect(Date.now() - started).toBeLessThan(5_000);
      // Known down now: the next write goes straight to the spool.
      const t = Date.now();
      await store.write(readings('hung', 80).slice(50));
      expect(Date.now() - t).toBeLessThan(250);
      expect(store.stats?.().spooled).toBe(70);
      expect(store.stats?.().writeErrors.timeout).toBeGreaterThanOrEqual(1);
      expect(store.stats?.().oldestSpooledAgeMs).toBeGreaterThanOrEqual(0);
      expect(events.some((e) => e.type === 'unreachable' && e.kind === 'timeout')).toBe(true);
    } finally {
      influx.resume();
    }
    await waitFor(() => store.stats?.().spooled === 0, { what: 'drain after SIGCONT', timeoutMs: 15_000 });
    expect(await count('hung', 'hung')).toBe(80);
    expect(events.at(-1)).toMatchObject({ type: 'drained' });
  });
});

describe('InfluxDB store with authentication (1.x user and password)', () => {
  it('writes with INFLUX_USERNAME/INFLUX_PASSWORD; a wrong password is an auth error and readings are spooled, not lost', async () => {
    const influx = await startInfluxd({ authEnabled: true });
    const temp = makeTempDir('kansui-influx-auth-');
    const stores: ReadingStore[] = [];
    try {
      const good = await createInfluxReadingStore({ dataDir: temp.dir, url: influx.url, database: 'kansui', ...INFLUX_ADMIN });
      stores.push(good);
      await good.write(readings('auth', 5));
      expect(good.stats?.().spooled).toBe(0);
      expect((await good.range({ sensorId: 'auth', from: T0, to: T0 + 10 })).length).toBe(5);
      await good.close();

      const events: InfluxStoreEvent[] = [];
      const bad = await createInfluxReadingStore({
        dataDir: temp.dir,
        url: influx.url,
        database: 'kansui',
        username: INFLUX_ADMIN.username,
        password: 'wrong',
        retryMinMs: 50,
        onEvent: (e) => events.push(e),
      });
      stores.push(bad);
      await bad.write(readings('auth', 10).slice(5));
      expect(bad.stats?.()).toMatchObject({ spooled: 5 });
      expect(bad.stats?.().writeErrors.auth).toBeGreaterThanOrEqual(1);
      expect(events).toContainEqual(expect.objectContaining({ type: 'unreachable', kind: 'auth' }));
    } finally {
      for (const s of stores) await s.close();
      await influx.stop();
      temp.remove();
    }
  });
});
