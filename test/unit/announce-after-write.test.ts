import { describe, expect, it } from 'vitest';
import type { Reading } from '../../services/core/reading.ts';
import { announceAfterWrite } from '../../services/root/ingest.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';

const readings: Reading[] = [1, 2].map((n) => ({ sensorId: 's1', observedAt: 1_700_000_000_000 + n, levelCm: n }) as Reading);

/**
 * Issue 15: an ingest worker's batch counts as written (so its sensors get
 * their PUBACKs) only once it is stored AND the bus has acknowledged its
 * `readings` message — a worker killed in between used to leave readings
 * stored and acknowledged that the core and the viewers never heard of.
 */
describe('announceAfterWrite', () => {
  it('resolves only after the bus took the batch, which it sees after the store has it', async () => {
    const store = createMemoryReadingStore();
    let release!: () => void;
    let storedWhenAnnounced = -1;
    const wrapped = announceAfterWrite(store, async (batch) => {
      storedWhenAnnounced = (await store.latest()).size;
      expect(batch).toEqual(readings);
      await new Promise<void>((r) => (release = r));
    });
    let done = false;
    const write = wrapped.write(readings).then((r) => ((done = true), r));
    await Promise.resolve();
    for (let i = 0; i < 10 && !release; i++) await new Promise((r) => setImmediate(r));
    expect(storedWhenAnnounced).toBe(1);
    expect(done).toBe(false);
    release();
    await expect(write).resolves.toEqual({ written: 2, duplicates: 0 });
  });

  it('a batch the bus refused fails (not acknowledged, delivered again) and the store keeps it once', async () => {
    const store = createMemoryReadingStore();
    let refuse = true;
    const wrapped = announceAfterWrite(store, async () => {
      if (refuse) throw new Error('bus refused');
    });
    await expect(wrapped.write(readings)).rejects.toThrow('bus refused');
    refuse = false;
    await expect(wrapped.write(readings)).resolves.toEqual({ written: 0, duplicates: 2 });
    expect(wrapped.kind).toBe(store.kind);
  });
});
