import type { SseEvent } from './sse.ts';

/**
 * A live-map viewer as a browser's EventSource behaves (WHATWG HTML §9.2):
 * when the stream ends or fails it reconnects, sending the last `id` it saw
 * (id-only blocks count) as `Last-Event-ID`, until closed. Issue 15: behind
 * nginx the reconnect may reach another web process, which must resume it.
 *
 * `retryMs` replaces the server's `retry: 3000` so a test does not idle 3 s
 * per reconnect; everything else is what EventSource does.
 */
export interface Viewer {
  /** Every event received, over all connections, in order. */
  events: SseEvent[];
  /** Streams opened (1 + reconnects). */
  connections(): number;
  /** `resync` events received (the server could not replay: a browser would refetch state). */
  resyncs(): number;
  /** The Last-Event-ID it would send now. */
  lastEventId(): string | undefined;
  /** Resolves once the first stream has sent its first bytes. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function openViewer(url: string, options: { retryMs?: number } = {}): Viewer {
  const retryMs = options.retryMs ?? 100;
  const events: SseEvent[] = [];
  let lastId: string | undefined;
  let connections = 0;
  let resyncs = 0;
  let closing = false;
  let controller = new AbortController();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));

  async function stream(): Promise<void> {
    connections++;
    const res = await fetch(url, {
      headers: { Accept: 'text/event-stream', ...(lastId !== undefined && { 'Last-Event-ID': lastId }) },
      signal: controller.signal,
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      markReady();
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const e: SseEvent = { event: 'message', data: '' };
        const data: string[] = [];
        let hasId = false;
        for (const line of block.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'id') {
            e.id = value;
            hasId = true;
          } else if (field === 'event') e.event = value;
          else if (field === 'data') data.push(value);
        }
        // EventSource keeps the last id even from a block without data.
        if (hasId) lastId = e.id;
        if (!data.length) continue;
        e.data = data.join('\n');
        if (e.event === 'resync') resyncs++;
        events.push(e);
      }
    }
  }

  const loop = (async () => {
    while (!closing) {
      await stream().catch(() => {});
      if (closing) break;
      await new Promise((r) => setTimeout(r, retryMs));
    }
  })();

  return {
    events,
    connections: () => connections,
    resyncs: () => resyncs,
    lastEventId: () => lastId,
    ready,
    async close() {
      closing = true;
      controller.abort();
      controller = new AbortController();
      await loop;
    },
  };
}
