import { describe, expect, it } from 'vitest';
import { HashBusyError, createHashQueue, type HashQueue } from '../../services/auth/hash-queue.ts';

/** Jobs that start when the queue lets them and finish when the test says so. */
function jobs(queue: HashQueue) {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const outcomes = new Map<string, 'done' | HashBusyError>();
  const submit = (name: string, source: string | undefined, maxPerSource?: number) =>
    queue
      .run(
        () =>
          new Promise<void>((resolve) => {
            started.push(name);
            finishers.set(name, resolve);
          }),
        { source, maxPerSource },
      )
      .then(
        () => void outcomes.set(name, 'done'),
        (err: HashBusyError) => void outcomes.set(name, err),
      );
  /** Finish a running job and let the queue hand its slot over. */
  const finish = async (name: string) => {
    const done = finishers.get(name);
    if (!done) throw new Error(`${name} is not running`);
    done();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { started, outcomes, submit, finish };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('hash queue: fair per source (issue 10 #9)', () => {
  it('hands free slots round-robin, so a second source waits for one hash of the first, not for its whole queue', async () => {
    const q = jobs(createHashQueue({ maxConcurrent: 2, maxWaiting: 64 }));
    for (const n of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']) void q.submit(n, 'attacker');
    void q.submit('s1', 'staff');
    await flush();
    expect(q.started).toEqual(['a1', 'a2']);
    await q.finish('a1');
    await q.finish('a2');
    expect(q.started).toEqual(['a1', 'a2', 'a3', 's1']); // staff is served second, ahead of a4…a6
    for (const n of ['a3', 's1', 'a4', 'a5', 'a6']) await q.finish(n);
    expect(q.started).toEqual(['a1', 'a2', 'a3', 's1', 'a4', 'a5', 'a6']);
    expect([...q.outcomes.values()].every((o) => o === 'done')).toBe(true);
  });

  it('refuses at once, without running it, a hash beyond the per-source cap (running + waiting); other sources are not affected', async () => {
    const queue = createHashQueue({ maxConcurrent: 2, maxWaiting: 64 });
    const q = jobs(queue);
    for (let i = 1; i <= 6; i++) void q.submit(`a${i}`, '192.0.2.1', 5);
    void q.submit('b1', '192.0.2.2', 5);
    await flush();
    const refused = q.outcomes.get('a6');
    expect(refused).toBeInstanceOf(HashBusyError);
    expect((refused as HashBusyError).scope).toBe('source');
    expect(queue.stats()).toEqual({ running: 2, waiting: 4, sources: 2 });
    // Once one of its hashes is done, the address may queue another.
    await q.finish('a1');
    void q.submit('a7', '192.0.2.1', 5);
    await flush();
    expect(q.outcomes.has('a7')).toBe(false);
    for (const n of ['a2', 'a3', 'b1', 'a4', 'a5', 'a7']) await q.finish(n);
    expect(q.started).not.toContain('a6');
    expect(queue.stats()).toEqual({ running: 0, waiting: 0, sources: 0 });
  });

  it('when full, a newcomer displaces the newest waiter of the longest queue; only when every queue is as short is it refused (503)', async () => {
    const queue = createHashQueue({ maxConcurrent: 1, maxWaiting: 3 });
    const q = jobs(queue);
    for (const n of ['a1', 'a2', 'a3', 'a4']) void q.submit(n, 'A'); // a1 runs, a2-a4 wait: full
    await flush();
    void q.submit('b1', 'B');
    await flush();
    expect((q.outcomes.get('a4') as HashBusyError).scope).toBe('source');
    void q.submit('c1', 'C');
    await flush();
    expect((q.outcomes.get('a3') as HashBusyError).scope).toBe('source');
    void q.submit('d1', 'D'); // A, B, C wait one each: nobody has more than D would
    await flush();
    expect((q.outcomes.get('d1') as HashBusyError).scope).toBe('global');
    for (const n of ['a1', 'a2', 'b1', 'c1']) await q.finish(n);
    expect(q.started).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(queue.stats()).toEqual({ running: 0, waiting: 0, sources: 0 });
  });

  it('passes a failing hash on to its caller and still frees the slot', async () => {
    const queue = createHashQueue({ maxConcurrent: 1, maxWaiting: 4 });
    await expect(queue.run(() => Promise.reject(new Error('scrypt failed')), { source: 'x' })).rejects.toThrow('scrypt failed');
    expect(await queue.run(() => Promise.resolve(42), { source: 'x', maxPerSource: 1 })).toBe(42);
    expect(queue.stats()).toEqual({ running: 0, waiting: 0, sources: 0 });
  });
});
