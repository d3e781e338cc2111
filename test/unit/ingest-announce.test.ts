import { describe, expect, it } from 'vitest';
import type { Reading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { createIngest } from '../../services/ingest/create-ingest.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';

const NOW = 1_800_000_000_000;
const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
const ticks = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function setup(announce: (readings: readonly Reading[]) => Promise<void>) {
  const registry = createMemorySensorRegistry();
  registry.create(createSensor({ id: 's1', name: 's1', lat: 0, lon: 0 }, NOW), { passwordHash: 'x' });
  const store = createMemoryReadingStore();
  const ingest = createIngest({ store, registry, now: () => NOW, announce });
  return { store, ingest };
}

/**
 * Issue 15: an ingest worker's batch counts as written (so its sensors get
 * their PUBACKs) only once it is stored AND the bus has acknowledged its
 * `readings` message (createIngest's `announce`) — a worker killed in between
 * used to leave readings stored and acknowledged that the core and the
 * viewers never heard of. The next batch is written while one is announced.
 */
describe('ingest with an announcement after each write', () => {
  it('settles a batch only after the announcement, which comes after the store has it', async () => {
    const releases: Array<() => void> = [];
    let storedWhenAnnounced = -1;
    const { store, ingest } = setup(async (batch) => {
      storedWhenAnnounced = (await store.range({ sensorId: 's1', from: 0, to: NOW })).length;
      expect(batch.map((r) => r.levelCm)).toEqual([1, 2]);
      await new Promise<void>((r) => releases.push(r));
    });
    const written: number[] = [];
    ingest.on('write', ({ count }) => written.push(count));
    let done = false;
    const submitted = ingest.submitMany([1, 2].map((n) => ({ sensorId: 's1', payload: enc({ ts: NOW - 1000 + n, level_cm: n }) }))).then(() => (done = true));
    await ticks();
    expect(storedWhenAnnounced).toBe(2);
    expect(done).toBe(false);
    expect(written).toEqual([]);
    releases[0]?.();
    await submitted;
    expect(written).toEqual([2]);
    expect(ingest.latest.get('s1')?.levelCm).toBe(2);
  });

  it('writes the next batch while one is being announced, and settles them in commit order', async () => {
    const releases: Array<() => void> = [];
    const announced: number[][] = [];
    const { store, ingest } = setup(async (batch) => {
      announced.push(batch.map((r) => r.levelCm));
      await new Promise<void>((r) => releases.push(r));
    });
    const order: number[] = [];
    ingest.on('reading', (r) => order.push(r.levelCm));
    const first = ingest.submit('s1', enc({ ts: NOW - 3000, level_cm: 1 }));
    await ticks();
    const second = ingest.submit('s1', enc({ ts: NOW - 2000, level_cm: 2 }));
    await ticks();
    // Both are stored and both announcements are out, the first not yet acknowledged.
    expect((await store.range({ sensorId: 's1', from: 0, to: NOW })).length).toBe(2);
    expect(announced).toEqual([[1], [2]]);
    releases[1]?.(); // the second acknowledged first: it still settles after the first
    await ticks();
    expect(order).toEqual([]);
    releases[0]?.();
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
    await ingest.drain();
  });

  it('a batch the announcement refused fails (not acknowledged, delivered again) and the store keeps it once', async () => {
    let refuse = true;
    const { store, ingest } = setup(async () => {
      if (refuse) throw new Error('bus refused');
    });
    const errors: string[] = [];
    ingest.on('write-error', (err) => errors.push(err.message));
    const payload = enc({ ts: NOW - 1000, level_cm: 7 });
    await expect(ingest.submit('s1', payload)).rejects.toThrow('bus refused');
    expect(errors).toEqual(['bus refused']);
    refuse = false;
    await expect(ingest.submit('s1', payload)).resolves.toMatchObject({ ok: true });
    expect((await store.range({ sensorId: 's1', from: 0, to: NOW })).length).toBe(1);
    await ingest.drain();
  });
});
