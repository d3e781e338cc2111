/**
 * A minimal SSE reader over fetch for tests: collects parsed events, lets a test wait for one.
 *
 * Each waiter's matcher sees each event exactly once, in order (issue 16: the
 * old helper re-ran every matcher over every event on each new one, which was
 * quadratic, broke matchers that keep state, and starved the timers of a
 * loaded machine until a 60-s test hung for minutes). Every wait has a
 * deadline; it also fails at once when the stream ends, and its message says
 * what was awaited and which events came last.
 */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseWaitOptions {
  /** Default 10,000 ms. */
  timeoutMs?: number;
  /** What the test waits for, for the failure message (a function is asked when it fails, so it can show state). */
  what?: string | (() => string);
}

interface Waiter {
  match: (e: SseEvent) => boolean;
  what: string | (() => string);
  deadline: number;
  resolve: (e: SseEvent) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** How many of the newest events a failure message shows. */
const TAIL = 8;

function describeEvents(events: SseEvent[]): string {
  if (!events.length) return 'no events at all';
  const tail = events.slice(-TAIL).map((e) => `${e.event}${e.id ? `#${e.id}` : ''} ${e.data.length > 160 ? `${e.data.slice(0, 160)}…` : e.data}`);
  return `${events.length} events, the last ${tail.length}:\n  ${tail.join('\n  ')}`;
}

/** Parse one SSE block (WHATWG HTML §9.2.6); undefined for a comment-only block. */
function parseBlock(block: string): SseEvent | undefined {
  const e: SseEvent = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || !line) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'id') e.id = value;
    else if (field === 'event') e.event = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length && e.id === undefined && e.event === 'message') return undefined;
  e.data = data.join('\n');
  return e;
}

/** Open a stream; `await sse.ready` before causing the events you want to see. */
export function openSse(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const controller = new AbortController();
  const waiters = new Set<Waiter>();
  let markReady: () => void = () => {};
  /** Resolves when the server has sent its first bytes: the subscription is live from then on. */
  const ready = new Promise<void>((r) => (markReady = r));
  let closing = false;
  let ended: string | undefined;
  let lastError: Error | undefined;

  const settle = (w: Waiter, outcome: { event: SseEvent } | { error: Error }) => {
    clearTimeout(w.timer);
    waiters.delete(w);
    if ('event' in outcome) w.resolve(outcome.event);
    else w.reject(outcome.error);
  };
  const failure = (w: Waiter, why: string) =>
    new Error(`SSE ${url}: ${why} while waiting for ${typeof w.what === 'function' ? w.what() : w.what}; ${describeEvents(events)}${lastError ? `\nstream error: ${lastError.message}` : ''}`);

  /** Offer one event to one waiter; true when the waiter is settled. */
  const offer = (w: Waiter, e: SseEvent): boolean => {
    let hit: boolean;
    try {
      hit = w.match(e);
    } catch (err) {
      settle(w, { error: Object.assign(failure(w, `the matcher threw on ${e.event} ${e.data.slice(0, 160)}`), { cause: err }) });
      return true;
    }
    if (hit) settle(w, { event: e });
    // A loaded machine may run this before the timer: keep the deadline anyway.
    else if (Date.now() > w.deadline) settle(w, { error: failure(w, 'deadline passed') });
    return !waiters.has(w);
  };

  const done = (async () => {
    const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      markReady();
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const e = parseBlock(block);
        if (!e) continue;
        events.push(e);
        for (const w of [...waiters]) offer(w, e);
      }
    }
  })()
    .catch((err) => {
      // The server going away at the end of a test is expected; anything else is kept for the failure message.
      if (!closing && (err as Error).name !== 'AbortError') lastError = err as Error;
    })
    .finally(() => {
      ended = closing ? 'the stream was closed by the test' : 'the stream ended';
      markReady();
      for (const w of [...waiters]) settle(w, { error: failure(w, ended) });
    });

  return {
    events,
    ready,
    error: () => lastError,
    /**
     * Resolve with the first event (already received or still to come) for which
     * `match` returns true; `match` is called once per event, in order. Rejects
     * after `timeoutMs` (default 10 s) or when the stream ends.
     */
    waitFor(match: (e: SseEvent) => boolean, options: number | SseWaitOptions = {}): Promise<SseEvent> {
      const { timeoutMs = 10_000, what = `an event matching ${String(match).replace(/\s+/g, ' ').slice(0, 200)}` } =
        typeof options === 'number' ? { timeoutMs: options } : options;
      return new Promise<SseEvent>((resolve, reject) => {
        const w: Waiter = { match, what, deadline: Date.now() + timeoutMs, resolve, reject, timer: undefined as never };
        w.timer = setTimeout(() => settle(w, { error: failure(w, `nothing matched within ${timeoutMs} ms`) }), timeoutMs);
        waiters.add(w);
        // The events so far, once each; then every new event as it arrives.
        for (const e of events) if (!waiters.has(w) || offer(w, e)) return;
        if (ended !== undefined && waiters.has(w)) settle(w, { error: failure(w, ended) });
      });
    },
    close() {
      closing = true;
      controller.abort();
      return done;
    },
  };
}
