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
