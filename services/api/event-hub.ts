export interface HubEvent {
  /**
   * The SSE id: the hub's position after this event, a vector of per-origin
   * high-water marks `<origin>-<seq>` joined by `.` (issue 15). The single
   * process has one origin, its boot: `<boot>-<seq>`, unique across restarts
   * and ordered within one boot. `0` is the empty vector (nothing seen yet).
   */
  id: string;
  event: string;
  data: string;
}

export interface EventHub {
  /** Publish an event of this hub's own origin to every subscriber and the replay buffer. */
  publish(event: string, data: unknown): HubEvent;
  /**
   * Publish an event another process made (issue 15: the broker as the bus),
   * numbered `seq` by its `origin` (monotonic from 1). A seq at or below the
   * origin's mark is a redelivery (QoS 1) and is dropped (`undefined`); a jump
   * past the next one is a gap, and clients older than it get a resync.
   */
  publishFrom(origin: string, seq: number, event: string, data: unknown): HubEvent | undefined;
  /**
   * Count `seq` of `origin` as seen without carrying an event: a bus message
   * for the processes, not for browsers (issue 15). Keeps the origin's
   * sequence whole, so it is not taken for a gap.
   */
  advance(origin: string, seq: number): void;
  /**
   * Subscribe from `lastEventId` (SSE `Last-Event-ID`). Returns the missed
   * events still in the buffer, or `resync: true` when the id is unknown or
   * too old (another boot, or fell out of the buffer): the client must refetch
   * state instead of trusting a partial replay.
   */
  subscribe(
    listener: (e: HubEvent) => void,
    lastEventId?: string,
  ): { missed: HubEvent[]; resync: boolean; unsubscribe: () => void };
  subscribers(): number;
  /** The id of the newest event (`<boot>-0` before any), for a fresh client's starting point. */
  lastId(): string;
}

export interface EventHubOptions {
  /** Events kept for replay. */
  replay?: number;
  /** This hub's own origin (default: the start time in base 36). */
  bootId?: string;
  /**
   * false: the hub has no origin of its own and carries only other processes'
   * events (a web process fed by the bus, issue 15); `publish` then throws.
   */
  local?: boolean;
  /**
   * Origins remembered at most (each restart of a process on the bus is a new one); the least recently heard is
   * forgotten first. Every SSE id carries one mark per origin (~35 bytes), so this bounds the id at ~600 bytes:
   * a core and a few ingest workers leave room for a dozen restarts before a dead origin is forgotten.
   */
  maxOrigins?: number;
}

interface Stored extends HubEvent {
  origin: string;
  seq: number;
}

interface OriginState {
  /** Highest seq received. */
  last: number;
  /** Highest seq NOT replayable here (before this hub heard the origin, a gap, or fell out of the ring). */
  floor: number;
  /** Events of this origin in the ring. */
  inRing: number;
}

/** The empty vector (a hub that has carried nothing yet). */
const EMPTY = '0';
const ENTRY_SEP = '.';

/** `a-3.b-7` → Map { a: 3, b: 7 }; undefined when it is not a vector. The seq follows the last `-`. */
export function parseEventId(id: string): Map<string, number> | undefined {
  const marks = new Map<string, number>();
  if (id === EMPTY) return marks;
  for (const entry of id.split(ENTRY_SEP)) {
    const dash = entry.lastIndexOf('-');
    if (dash <= 0) return undefined;
    const seq = Number(entry.slice(dash + 1));
    if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
    marks.set(entry.slice(0, dash), seq);
  }
  return marks;
}

/**
 * In-memory fan-out with a bounded replay ring for SSE reconnects. Replay
 * is bounded (default 10,000 events ≈ 10 s at the 1,000/s benchmark load, or
 * days of normal 10-minute reporting) so memory stays flat.
 *
 * Ids are per-origin high-water marks (issue 15): every web process gets the
 * same events from the bus, numbered by the process that made them, in its own
 * interleaving. A client's `Last-Event-ID` says how far it got in each origin's
 * sequence, so any web process can replay exactly what that client has not
 * seen — nothing missed, nothing twice — or ask for a resync when it cannot
 * (an origin it never heard with a mark above 0, or a mark below what it holds).
 */
export function createEventHub(options: EventHubOptions = {}): EventHub {
  const size = options.replay ?? 10_000;
  const maxOrigins = options.maxOrigins ?? 16;
  const local = options.local === false ? undefined : (options.bootId ?? Date.now().toString(36));
  const ring: Stored[] = [];
  let start = 0; // index in ring of the oldest event
  const origins = new Map<string, OriginState>();
  /** Origins forgotten (maxOrigins), with the last seq heard: a client that saw all of it resumes. */
  const forgotten = new Map<string, number>();
  let position: string | undefined; // cached serialization of the marks
  const listeners = new Set<(e: HubEvent) => void>();
  if (local !== undefined) origins.set(local, { last: 0, floor: 0, inRing: 0 });

  function serialize(): string {
    if (position !== undefined) return position;
    if (origins.size === 0) return (position = EMPTY);
    let out = '';
    for (const [o, s] of origins) out += (out ? ENTRY_SEP : '') + o + '-' + s.last;
    return (position = out);
  }

  function append(origin: string, seq: number, event: string, data: unknown): HubEvent {
    const state = origins.get(origin) as OriginState;
    state.last = seq;
    state.inRing++;
    // Most recently heard last (Map order): the first entry is the one to forget.
    if (origin !== local) {
      origins.delete(origin);
      origins.set(origin, state);
    }
    position = undefined;
    const e: Stored = { id: serialize(), event, data: typeof data === 'string' ? data : JSON.stringify(data), origin, seq };
    if (ring.length < size) ring.push(e);
    else {
      const old = ring[start] as Stored;
      const os = origins.get(old.origin);
      if (os) {
        os.inRing--;
        os.floor = Math.max(os.floor, old.seq);
      }
      ring[start] = e;
      start = (start + 1) % size;
    }
    for (const l of listeners) l(e);
    return e;
  }

  /** The origin's state if `seq` is its next (or later) event; undefined for a redelivery. */
  function admit(origin: string, seq: number): OriginState | undefined {
    let state = origins.get(origin);
    if (!state) {
      const was = forgotten.get(origin);
      if (was !== undefined && seq <= was) return undefined; // a redelivery of a forgotten origin
      forgotten.delete(origin);
      // Heard for the first time (or again after being forgotten): what came before is not here.
      state = { last: seq - 1, floor: seq - 1, inRing: 0 };
      origins.set(origin, state);
      if (origins.size - (local !== undefined ? 1 : 0) > maxOrigins) forgetOldest();
    }
    if (seq <= state.last) return undefined; // a QoS 1 redelivery
    if (seq > state.last + 1) state.floor = seq - 1; // a gap: marks before it cannot be replayed exactly
    return state;
  }

  function forgetOldest(): void {
    for (const [o, s] of origins) {
      if (o === local) continue;
      origins.delete(o);
      forgotten.set(o, s.last);
      if (forgotten.size > 4 * maxOrigins) forgotten.delete(forgotten.keys().next().value as string);
      // Its events still in the ring stay there but can no longer be replayed by mark.
      return;
    }
  }

  return {
    publish(event, data) {
      if (local === undefined) throw new Error('this event hub carries other processes\' events only (publishFrom)');
      return append(local, (origins.get(local) as OriginState).last + 1, event, data);
    },
    publishFrom(origin, seq, event, data) {
      const state = admit(origin, seq);
      return state ? append(origin, seq, event, data) : undefined;
    },
    advance(origin, seq) {
      const state = admit(origin, seq);
      if (!state) return;
      state.last = seq;
      position = undefined;
    },
    subscribe(listener, lastEventId) {
      if (lastEventId === undefined) {
        listeners.add(listener);
        return { missed: [], resync: false, unsubscribe: () => void listeners.delete(listener) };
      }
      const marks = parseEventId(lastEventId);
      const resync = () => {
        listeners.add(listener);
        return { missed: [], resync: true, unsubscribe: () => void listeners.delete(listener) };
      };
      if (!marks) return resync();
      /** Origins the client is ahead of this hub in (it came from a web process the bus reached first). */
      let ahead: Map<string, number> | undefined;
      for (const [o, mark] of marks) {
        const s = origins.get(o);
        if (!s) {
          const was = forgotten.get(o);
          if (was !== undefined ? mark >= was : mark === 0) continue;
          return resync();
        }
        if (mark < s.floor) return resync();
        if (mark > s.last) {
          if (o === local) return resync(); // our own sequence: another boot that reused the id, or garbage
          (ahead ??= new Map()).set(o, mark);
        }
      }
      // Origins the client has no mark for: it saw none of their events, so all of them must be here.
      for (const [o, s] of origins) if (!marks.has(o) && s.floor > 0) return resync();
      // Walk back from the newest event until every origin in the ring is behind the client's mark.
      const missed: Stored[] = [];
      const pending = new Set<string>();
      for (const [o, s] of origins) if (s.inRing > 0) pending.add(o);
      for (let i = ring.length - 1; i >= 0 && pending.size > 0; i--) {
        const e = ring[(start + i) % ring.length] as Stored;
        const state = origins.get(e.origin);
        if (!state) continue; // forgotten origin
        if (e.seq > (marks.get(e.origin) ?? 0) && e.seq > state.floor) missed.push(e);
        else pending.delete(e.origin);
      }
      missed.reverse();
      let deliver = listener;
      if (ahead) {
        // Skip, live, what the client already has, until this hub catches up with it.
        const skip = ahead;
        deliver = (e) => {
          const st = e as Stored;
          const mark = skip.get(st.origin);
          if (mark !== undefined) {
            if (st.seq <= mark) return;
            skip.delete(st.origin);
          }
          listener(e);
        };
      }
      listeners.add(deliver);
      return { missed, resync: false, unsubscribe: () => void listeners.delete(deliver) };
    },
    subscribers: () => listeners.size,
    lastId: () => serialize(),
  };
}
