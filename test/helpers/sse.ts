/** A minimal SSE reader over fetch for tests: collects parsed events, lets a test wait for one. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Open a stream; `await sse.ready` before causing the events you want to see. */
export function openSse(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const controller = new AbortController();
  const waiters = new Set<() => void>();
  let markReady: () => void = () => {};
  /** Resolves when the server has sent its first bytes: the subscription is live from then on. */
  const ready = new Promise<void>((r) => (markReady = r));
  let closing = false;
  const done = (async () => {
    const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      markReady();
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
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
        if (!data.length && e.id === undefined && e.event === 'message') continue;
        e.data = data.join('\n');
        events.push(e);
        for (const w of waiters) w();
      }
    }
  })().catch((err) => {
    // The server going away at the end of a test is expected; anything else is reported through waitFor timing out.
    if (!closing && (err as Error).name !== 'AbortError') lastError = err as Error;
  });
  let lastError: Error | undefined;

  return {
    events,
    ready,
    error: () => lastError,
    /** Resolve with the first event matching `match`, or fail after `timeoutMs`. */
    waitFor(match: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(',')}`));
        }, timeoutMs);
        const check = () => {
          const e = events.find(match);
          if (e) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(e);
          }
        };
        waiters.add(check);
      });
    },
    close() {
      closing = true;
      controller.abort();
      return done;
    },
  };
}
