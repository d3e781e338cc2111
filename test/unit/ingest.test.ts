import { describe, expect, it } from 'vitest';
import type { Reading } from '../../services/core/reading.ts';
import type { ReadingStore } from '../../services/core/ports.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { createIngest } from '../../services/ingest/create-ingest.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';

const NOW = 1_800_000_000_000;
const enc = (v: unknown) => Buffer.from(JSON.stringify(v));

function setup(store: ReadingStore = createMemoryReadingStore()) {
  const registry = createMemorySensorRegistry();
  registry.create(createSensor({ id: 's1', name: 's1', lat: 0, lon: 0 }, NOW), { passwordHash: 'x' });
  const ingest = createIngest({ store, registry, now: () => NOW });
  return { registry, store, ingest };
}

describe('ingest', () => {
  it('group-commits readings submitted together into one store write', async () => {
    const writes: number[] = [];
    const mem = createMemoryReadingStore();
    const { ingest } = setup({ ...mem, write: (rs) => (writes.push(rs.length), mem.write(rs)) });
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => ingest.submit('s1', enc({ ts: NOW - i * 1000, level_cm: i }))));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(writes).toEqual([50]);
  });

  it('never lets a bad reading take good ones down with it', async () => {
    const { ingest, store } = setup();
    const rejected: string[] = [];
    ingest.on('rejected', (reason) => rejected.push(reason));
    const results = await Promise.all([
      ingest.submit('s1', enc({ ts: NOW - 3000, level_cm: 1 })),
      ingest.submit('s1', Buffer.from('{oops')),
      ingest.submit('s1', enc({ ts: NOW - 2000, level_cm: 2 })),
      ingest.submit('s1', enc({ ts: NOW - 1000, level_cm: -5 })),
      ingest.submit('nobody', enc({ level_cm: 1 })),
      ingest.submit('s1', enc({ ts: NOW - 500, level_cm: 3 })),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, false, true]);
    expect(rejected).toEqual(['malformed_json', 'level_out_of_range', 'unknown_sensor']);
    expect((await store.range({ sensorId: 's1', from: 0, to: NOW })).map((p) => p.levelCm)).toEqual([1, 2, 3]);
  });

  it('keeps "latest" from moving backwards on an out-of-order reading', async () => {
    const { ingest } = setup();
    await ingest.submit('s1', enc({ ts: NOW - 1000, level_cm: 25 }));
    await ingest.submit('s1', enc({ ts: NOW - 60_000, level_cm: 5 }));
    expect(ingest.latest.get('s1')).toMatchObject({ observedAt: NOW - 1000, levelCm: 25 });
  });

  it('rejects the submit (so the broker withholds the PUBACK) when the store fails, and recovers', async () => {
    const mem = createMemoryReadingStore();
    let fail = true;
    const { ingest } = setup({ ...mem, write: (rs) => (fail ? Promise.reject(new Error('disk full')) : mem.write(rs)) });
    const errors: string[] = [];
    ingest.on('write-error', (e) => errors.push(e.message));
    await expect(ingest.submit('s1', enc({ level_cm: 1 }))).rejects.toThrow('disk full');
    fail = false;
    await expect(ingest.submit('s1', enc({ level_cm: 1 }))).resolves.toMatchObject({ ok: true });
    expect(errors).toEqual(['disk full']);
  });

  it('drain() resolves once everything submitted is written', async () => {
    const { ingest, store } = setup();
    void ingest.submit('s1', enc({ ts: NOW - 1, level_cm: 1 }));
    void ingest.submit('s1', enc({ ts: NOW - 2, level_cm: 2 }));
    await ingest.drain();
    expect(await store.range({ sensorId: 's1', from: 0, to: NOW })).toHaveLength(2);
  });

  it('loads the latest reading per sensor from the store at start', async () => {
    const store = createMemoryReadingStore();
    const r: Reading = { sensorId: 's1', observedAt: NOW - 5, levelCm: 7 };
    await store.write([r]);
    const { ingest } = setup(store);
    await ingest.start();
    expect(ingest.latest.get('s1')).toEqual(r);
  });
});
