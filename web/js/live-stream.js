// The live stream (/api/events, Server-Sent Events) with reconnect and catch-up.

/** Backoff for a stream the browser gave up on (HTTP error): 1 s doubling to 30 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** @typedef {'connecting' | 'live' | 'down'} LiveState */
/** @typedef {{ readonly state: LiveState }} LiveStream */

/**
 * Keep one EventSource open. While it reconnects by itself the browser sends
 * Last-Event-ID and the server replays what was missed; when the browser gives
 * up (readyState CLOSED) a new EventSource is made with `?lastEventId=` so the
 * catch-up still works. `resync` means the server could not replay: refetch.
 * @param {{ onReading: (e: any) => void, onStatus: (e: any) => void, onClosure?: (e: any) => void, onResync: () => void,
 *           onState: (state: LiveState) => void }} handlers
 * @returns {LiveStream}
 */
export function connectLive(handlers) {
  /** @type {EventSource | undefined} */
  let source;
  let lastId = '';
  let retryMs = RETRY_MIN_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {LiveState} */
  let state = 'connecting';

  /** @param {LiveState} next */
  function setState(next) {
    if (next === state) return;
    state = next;
    handlers.onState(next);
  }

  function open() {
    clearTimeout(timer);
    source?.close();
    const url = lastId ? `/api/events?lastEventId=${encodeURIComponent(lastId)}` : '/api/events';
    const es = new EventSource(url);
    source = es;
    es.onopen = () => {
      retryMs = RETRY_MIN_MS;
      const wasDown = state === 'down';
      setState('live');
      // No event id yet means the server cannot replay what happened while we were away: refetch instead.
      if (wasDown && !lastId) handlers.onResync();
    };
    es.onerror = () => {
      if (es !== source) return;
      setState('down');
      if (es.readyState === EventSource.CLOSED) {
        timer = setTimeout(open, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    };
    es.addEventListener('reading', (e) => {
      lastId = e.lastEventId || lastId;
      handlers.onReading(JSON.parse(e.data));
    });
    es.addEventListener('status', (e) => {
      lastId = e.lastEventId || lastId;
      handlers.onStatus(JSON.parse(e.data));
    });
    es.addEventListener('closure', (e) => {
      lastId = e.lastEventId || lastId;
      handlers.onClosure?.(JSON.parse(e.data));
    });
    es.addEventListener('resync', () => handlers.onResync());
  }

  // Back online (phone leaves a tunnel): do not wait for the backoff.
  addEventListener('online', () => {
    if (!source || source.readyState === EventSource.CLOSED) open();
  });
  open();
  return {
    get state() {
      return state;
    },
  };
}
