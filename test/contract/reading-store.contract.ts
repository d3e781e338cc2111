import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { ReadingStore } from '../../services/core/ports.ts';
import type { Reading } from '../../services/core/reading.ts';
import { makeTempDir } from '../helpers/kansui.ts';

/** One adapter under test. */
export interface ReadingStoreSubject {
  name: string;
  /** Open a store. The same `dataDir` and `key` must reopen the same data when `durable`. */
  open(dataDir: string, key: string): Promise<ReadingStore>;
  /** Survives close and reopen. */
  durable: boolean;
  /** Reports duplicates of earlier batches in WriteResult (InfluxDB cannot tell; it just stores them once). */
  countsDuplicates: boolean;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

/** A fixed instant (2023-11-14T22:13:20Z) on a minute boundary, so bucket edges are easy to reason about. */
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

/**
 * The ReadingStore contract (services/core/ports.ts), shared by every
 * adapter the way aedes' persistence modules share abstract.js: the memory
 * store is the reference; sqlite and influx must behave the same.
 */
export function describeReadingStoreContract(subject: ReadingStoreSubject): void {
  describe(`ReadingStore contract: ${subject.name}`, () => {
    const opened: ReadingStore[] = [];
    const temps: { remove(): void }[] = [];
    let n = 0;

    beforeAll(async () => {
      await subject.setup?.();
    });
    afterAll(async () => {
      await subject.teardown?.();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      for (const t of temps.splice(0)) t.remove();
    });

    async function openFresh(): Promise<{ store: ReadingStore; dataDir: string; key: string }> {
      const temp = makeTempDir('kansui-contract-');
      temps.push(temp);
      const key = `c${process.pid}_${++n}`;
      const store = await subject.open(temp.dir, key);
      opened.push(store);
      return { store, dataDir: temp.dir, key };
    }

    it('stores a batch and returns it in time order with every field', async () => {
      const { store } = await openFresh();
      const batch: Reading[] = [
        { sensorId: 'a', observedAt: T0 + 1000, levelCm: 1.5, distanceMm: 1985, batteryV: 3.61, rssiDbm: -97, seq: 41 },
        { sensorId: 'a', observedAt: T0 + 2000, levelCm: 2.25, seq: 42 },
        { sensorId: 'b', observedAt: T0 + 1500, levelCm: 10 },
      ];
      const result = await store.write(batch);
      expect(result).toEqual({ written: 3, duplicates: 0 });
      expect(await store.range({ sensorId: 'a', from: T0, to: T0 + 10_000 })).toEqual([
        { observedAt: T0 + 1000, levelCm: 1.5 },
        { observedAt: T0 + 2000, levelCm: 2.25 },
      ]);
      const latest = await store.latest();
      expect(latest.get('a')).toEqual({ sensorId: 'a', observedAt: T0 + 2000, levelCm: 2.25, seq: 42 });
      expect(latest.get('b')).toEqual({ sensorId: 'b', observedAt: T0 + 1500, levelCm: 10 });
      expect(await store.write([])).toEqual({ written: 0, duplicates: 0 });
    });

    it('stores a duplicate (same sensor and observedAt) once, within a batch and across batches', async () => {
      const { store } = await openFresh();
      const r: Reading = { sensorId: 'dup', observedAt: T0 + 5000, levelCm: 7, batteryV: 3.3 };
      const first = await store.write([r, { ...r }]);
      expect(first).toEqual({ written: 1, duplicates: 1 });
      const again = await store.write([{ ...r }, { sensorId: 'dup', observedAt: T0 + 6000, levelCm: 8 }]);
      expect(again.written + again.duplicates).toBe(2);
      if (subject.countsDuplicates) expect(again).toEqual({ written: 1, duplicates: 1 });
      expect(await store.range({ sensorId: 'dup', from: T0, to: T0 + 60_000 })).toEqual([
        { observedAt: T0 + 5000, levelCm: 7 },
        { observedAt: T0 + 6000, levelCm: 8 },
      ]);
    });

    it('accepts readings out of order: range is sorted, latest is the newest by observedAt, not the last written', async () => {
      const { store } = await openFresh();
      await store.write([{ sensorId: 'ooo', observedAt: T0 + 3000, levelCm: 3 }]);
      await store.write([{ sensorId: 'ooo', observedAt: T0 + 1000, levelCm: 1 }]);
      await store.write([{ sensorId: 'ooo', observedAt: T0 + 2000, levelCm: 2 }]);
      expect((await store.range({ sensorId: 'ooo', from: T0, to: T0 + 10_000 })).map((p) => p.levelCm)).toEqual([1, 2, 3]);
      expect((await store.latest()).get('ooo')?.observedAt).toBe(T0 + 3000);
    });

    it('range bounds are inclusive, other sensors are excluded, and limit keeps the oldest', async () => {
      const { store } = await openFresh();
      const rows: Reading[] = [];
      for (let i = 0; i < 10; i++) rows.push({ sensorId: 'r', observedAt: T0 + i * 1000, levelCm: i });
      rows.push({ sensorId: 'other', observedAt: T0 + 2000, levelCm: 99 });
      await store.write(rows);
      const mid = await store.range({ sensorId: 'r', from: T0 + 2000, to: T0 + 5000 });
      expect(mid.map((p) => p.levelCm)).toEqual([2, 3, 4, 5]);
      const limited = await store.range({ sensorId: 'r', from: T0, to: T0 + 60_000, limit: 3 });
      expect(limited.map((p) => p.levelCm)).toEqual([0, 1, 2]);
      expect(await store.range({ sensorId: 'nobody', from: T0, to: T0 + 60_000 })).toEqual([]);
    });

    it('downsamples into epoch-aligned buckets reporting their start and the MAXIMUM level in each', async () => {
      const { store } = await openFresh();
      // One minute of readings every 5 s: a peak of 80 cm at +35 s must survive downsampling.
      const rows: Reading[] = [];
      for (let s = 0; s < 60; s += 5) rows.push({ sensorId: 'd', observedAt: T0 + s * 1000, levelCm: s === 35 ? 80 : s });
      await store.write(rows);
      const buckets = await store.range({ sensorId: 'd', from: T0, to: T0 + 59_999, bucketMs: 20_000 });
      expect(buckets).toEqual([
        { observedAt: T0, levelCm: 15 },
        { observedAt: T0 + 20_000, levelCm: 80 },
        { observedAt: T0 + 40_000, levelCm: 55 },
      ]);
      // A range starting mid-bucket: the bucket still reports its aligned start, with only in-range data.
      const partial = await store.range({ sensorId: 'd', from: T0 + 25_000, to: T0 + 44_000, bucketMs: 20_000 });
      expect(partial).toEqual([
        { observedAt: T0 + 20_000, levelCm: 80 },
        { observedAt: T0 + 40_000, levelCm: 40 },
      ]);
      expect(await store.range({ sensorId: 'd', from: T0, to: T0 + 59_999, bucketMs: 20_000, limit: 1 })).toHaveLength(1);
    });

    it('gives the latest reading of every sensor', async () => {
      const { store } = await openFresh();
      const rows: Reading[] = [];
      for (let s = 0; s < 5; s++) {
        for (let i = 0; i < 3; i++) rows.push({ sensorId: `s${s}`, observedAt: T0 + i * 1000 + s, levelCm: s * 10 + i, rssiDbm: -80 - i });
      }
      await store.write(rows);
      const latest = await store.latest();
      for (let s = 0; s < 5; s++) {
        expect(latest.get(`s${s}`)).toEqual({ sensorId: `s${s}`, observedAt: T0 + 2000 + s, levelCm: s * 10 + 2, rssiDbm: -82 });
      }
    });

    it.runIf(subject.durable)('keeps every acknowledged reading across close and reopen', async () => {
      const { store, dataDir, key } = await openFresh();
      const rows: Reading[] = [];
      for (let i = 0; i < 500; i++) rows.push({ sensorId: 'dur', observedAt: T0 + i, levelCm: i % 100, seq: i });
      await store.write(rows);
      await store.close();
      const reopened = await subject.open(dataDir, key);
      opened.push(reopened);
      const back = await reopened.range({ sensorId: 'dur', from: T0, to: T0 + 1000 });
      expect(back).toHaveLength(500);
      expect((await reopened.latest()).get('dur')).toEqual({ sensorId: 'dur', observedAt: T0 + 499, levelCm: 99, seq: 499 });
    });
  });
}
