import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventHub, type HubEvent } from '../../services/api/event-hub.ts';

describe('event hub', () => {
  it('fans out to every subscriber in order', () => {
    const hub = createEventHub({ bootId: 'b' });
    const a: HubEvent[] = [];
    const b: HubEvent[] = [];
    hub.subscribe((e) => a.push(e));
    hub.subscribe((e) => b.push(e));
    hub.publish('reading', { n: 1 });
    hub.publish('reading', { n: 2 });
    expect(a.map((e) => e.id)).toEqual(['b-1', 'b-2']);
    expect(b.map((e) => JSON.parse(e.data).n)).toEqual([1, 2]);
  });

  it('replays what a reconnecting client missed after its Last-Event-ID', () => {
    const hub = createEventHub({ bootId: 'b', replay: 100 });
    for (let n = 1; n <= 10; n++) hub.publish('reading', { n });
    const sub = hub.subscribe(() => {}, 'b-7');
    expect(sub.resync).toBe(false);
    expect(sub.missed.map((e) => e.id)).toEqual(['b-8', 'b-9', 'b-10']);
    expect(hub.subscribe(() => {}, 'b-10').missed).toEqual([]);
  });

  it('asks for a resync when the id fell out of the bounded buffer, is from another boot, or is garbage', () => {
    const hub = createEventHub({ bootId: 'b', replay: 5 });
    for (let n = 1; n <= 20; n++) hub.publish('reading', { n });
    expect(hub.subscribe(() => {}, 'b-15').missed.map((e) => e.id)).toEqual(['b-16', 'b-17', 'b-18', 'b-19', 'b-20']);
    expect(hub.subscribe(() => {}, 'b-14').resync).toBe(true);
    expect(hub.subscribe(() => {}, 'other-3').resync).toBe(true);
    expect(hub.subscribe(() => {}, 'nonsense').resync).toBe(true);
    expect(hub.subscribe(() => {}, 'b-99').resync).toBe(true);
  });

  it("gives a fresh client a position it can resume from, even before the first event", () => {
    const hub = createEventHub({ bootId: 'b' });
    const start = hub.lastId();
    expect(start).toBe('b-0');
    expect(hub.subscribe(() => {}, start)).toMatchObject({ resync: false, missed: [] });
    hub.publish('reading', { n: 1 });
    expect(hub.subscribe(() => {}, start).missed.map((e) => e.id)).toEqual(['b-1']);
    expect(hub.lastId()).toBe('b-1');
  });

  it('stops delivering after unsubscribe', () => {
    const hub = createEventHub();
    const got: HubEvent[] = [];
    const sub = hub.subscribe((e) => got.push(e));
    sub.unsubscribe();
    hub.publish('x', {});
    expect(got).toEqual([]);
    expect(hub.subscribers()).toBe(0);
  });
});

describe('event hub fed by the bus: per-origin marks (issue 15)', () => {
  type Ev = { origin: string; seq: number };
  /** Per-origin sequences merged in the order `picks` says (each pick an origin index, skipped when that origin is done). */
  function interleave(counts: number[], picks: number[]): Ev[] {
    const next = counts.map(() => 1);
    const out: Ev[] = [];
    const total = counts.reduce((a, b) => a + b, 0);
    let p = 0;
    while (out.length < total) {
      let o = (picks[p++ % Math.max(1, picks.length)] ?? 0) % counts.length;
      while ((next[o] as number) > (counts[o] as number)) o = (o + 1) % counts.length;
      out.push({ origin: `o${o}-x-b`, seq: next[o] as number });
      next[o] = (next[o] as number) + 1;
    }
    return out;
  }
  const key = (e: { data: string }) => e.data;
  const feed = (hub: ReturnType<typeof createEventHub>, evs: Ev[]) => {
    for (const e of evs) hub.publishFrom(e.origin, e.seq, 'reading', `${e.origin}:${e.seq}`);
  };

  it('two hubs fed the same events in different interleavings resume each other\'s clients: nothing missed, nothing twice', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        fc.nat(),
        fc.nat(),
        (counts, picksA, picksB, cutA, cutB) => {
          const a = interleave(counts, picksA);
          const b = interleave(counts, picksB);
          const all = new Set(a.map((e) => `${e.origin}:${e.seq}`));
          const hubA = createEventHub({ local: false });
          const hubB = createEventHub({ local: false });
          const seenOnA = a.slice(0, cutA % (a.length + 1));
          feed(hubA, seenOnA);
          // The client's id: the position of the last event it got from A (or A's start).
          const id = hubA.lastId();
          // B has heard some prefix of its own order when the client comes back.
          const kB = cutB % (b.length + 1);
          feed(hubB, b.slice(0, kB));
          const got: string[] = seenOnA.map((e) => `${e.origin}:${e.seq}`);
          const sub = hubB.subscribe((e) => got.push(key(e)), id);
          if (sub.resync) {
            // Allowed only when B has not heard an origin the client has seen events of.
            const heardByB = new Set(b.slice(0, kB).map((e) => e.origin));
            expect(seenOnA.some((e) => !heardByB.has(e.origin))).toBe(true);
            return;
          }
          got.push(...sub.missed.map(key));
          feed(hubB, b.slice(kB));
          expect(got.length).toBe(all.size);
          expect(new Set(got)).toEqual(all);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('replays in each origin\'s order and carries the marks of every origin in the id', () => {
    const hub = createEventHub({ local: false });
    expect(hub.lastId()).toBe('0');
    hub.publishFrom('core-a-1', 1, 'status', { n: 1 });
    hub.publishFrom('ingest-1-2', 1, 'reading', { n: 2 });
    const e = hub.publishFrom('ingest-1-2', 2, 'reading', { n: 3 });
    expect(e?.id).toBe('core-a-1-1.ingest-1-2-2');
    const sub = hub.subscribe(() => {}, 'core-a-1-1.ingest-1-2-0');
    expect(sub.missed.map((m) => JSON.parse(m.data).n)).toEqual([2, 3]);
    expect(hub.subscribe(() => {}, '0').missed.map((m) => JSON.parse(m.data).n)).toEqual([1, 2, 3]);
    expect(() => hub.publish('x', {})).toThrow(/publishFrom/);
  });

  it('drops redeliveries; a gap, an origin heard late or a mark out of the ring asks for a resync', () => {
    const hub = createEventHub({ local: false, replay: 4 });
    hub.publishFrom('i', 1, 'reading', 1);
    expect(hub.publishFrom('i', 1, 'reading', 1)).toBeUndefined();
    hub.publishFrom('i', 4, 'reading', 4); // 2 and 3 never came
    expect(hub.subscribe(() => {}, 'i-1').resync).toBe(true);
    expect(hub.subscribe(() => {}, 'i-3').missed.map((e) => e.data)).toEqual(['4']);
    hub.publishFrom('j', 10, 'reading', 10); // heard from its 10th event on
    expect(hub.subscribe(() => {}, 'i-4').resync).toBe(true);
    expect(hub.subscribe(() => {}, 'i-4.j-9').resync).toBe(false);
    for (let s = 5; s <= 8; s++) hub.publishFrom('i', s, 'reading', s);
    expect(hub.subscribe(() => {}, 'i-3.j-10').resync).toBe(true); // 4 fell out of the ring of 4
    expect(hub.subscribe(() => {}, 'i-4.j-10').missed.map((e) => e.data)).toEqual(['5', '6', '7', '8']);
    expect(hub.subscribe(() => {}, 'i-6.j-10').missed.map((e) => e.data)).toEqual(['7', '8']);
    expect(hub.subscribe(() => {}, 'unknown-3.i-8.j-10').resync).toBe(true);
    expect(hub.subscribe(() => {}, 'unknown-0.i-8.j-10').resync).toBe(false);
  });

  it('a client ahead of this hub (the bus reached its old web process first) gets the rest live, once', () => {
    const hub = createEventHub({ local: false });
    hub.publishFrom('i', 1, 'reading', 1);
    const got: string[] = [];
    const sub = hub.subscribe((e) => got.push(e.data), 'i-3');
    expect(sub).toMatchObject({ resync: false, missed: [] });
    for (let s = 2; s <= 5; s++) hub.publishFrom('i', s, 'reading', s);
    expect(got).toEqual(['4', '5']);
  });

  it('forgets the least recently heard origin past maxOrigins; a client that saw all of it still resumes', () => {
    const hub = createEventHub({ local: false, maxOrigins: 2 });
    hub.publishFrom('old-1', 1, 'reading', 1);
    hub.publishFrom('a-1', 1, 'reading', 2);
    hub.publishFrom('b-1', 1, 'reading', 3);
    expect(hub.lastId()).toBe('a-1-1.b-1-1');
    expect(hub.subscribe(() => {}, 'old-1-1.a-1-0.b-1-0').missed.map((e) => e.data)).toEqual(['2', '3']);
    expect(hub.subscribe(() => {}, 'old-1-0.a-1-1.b-1-1').resync).toBe(true);
  });
});

describe('event hub: advance (a bus message for processes, not browsers)', () => {
  it('keeps the origin whole: a client before it resumes without a resync and gets only events', () => {
    const hub = createEventHub({ local: false });
    hub.publishFrom('c', 1, 'status', 1);
    const id = hub.lastId();
    hub.advance('c', 2);
    hub.publishFrom('c', 3, 'status', 3);
    expect(hub.lastId()).toBe('c-3');
    const sub = hub.subscribe(() => {}, id);
    expect(sub.resync).toBe(false);
    expect(sub.missed.map((e) => e.data)).toEqual(['3']);
    hub.advance('c', 2); // a redelivery: nothing moves
    expect(hub.lastId()).toBe('c-3');
  });
});
