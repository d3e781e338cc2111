import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventHub, type EventHub } from '../../services/api/event-hub.ts';
import { createSseFanout, RETRY_MIN_MS, RETRY_SPREAD_MS, type SseFanout } from '../../services/api/sse-fanout.ts';
import { createMetrics } from '../../services/metrics.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The SSE fan-out on its own (issue 15), on a real node:http server on loopback: what the whole
 * app's SSE tests do not reach — a batch shared by everyone, a client that joins mid-batch, a
 * slow client dropped, the heartbeat from one timer.
 */
describe('SSE fan-out', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  async function serve(hub: EventHub, options: Partial<Parameters<typeof createSseFanout>[0]> = {}): Promise<{ url: string; port: number; fanout: SseFanout; metrics: ReturnType<typeof createMetrics> }> {
    const metrics = createMetrics();
    const fanout = createSseFanout({ hub, metrics, ...options });
    server = createServer((req, res) => {
      const start = fanout.attach(res, req.headers['last-event-id'] as string | undefined);
      setImmediate(() => start({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server!.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}/`, port, fanout, metrics };
  }

  it('every client gets every event once, in order; a client resuming gets what it missed, then live, nothing twice', async () => {
    const hub = createEventHub({ bootId: 'fan' });
    const { url, fanout, metrics } = await serve(hub);
    const a = openSse(url);
    const b = openSse(url);
    await Promise.all([a.ready, b.ready]);
    for (let i = 1; i <= 5; i++) hub.publish('reading', { n: i });
    const c = openSse(url, { 'Last-Event-ID': a.events.find((e) => e.id)!.id! });
    for (let i = 6; i <= 8; i++) hub.publish('reading', { n: i });
    const ns = (s: typeof a) => s.events.filter((e) => e.event === 'reading').map((e) => JSON.parse(e.data).n as number);
    for (const s of [a, b, c]) await s.waitFor((e) => e.event === 'reading' && JSON.parse(e.data).n === 8);
    expect(ns(a)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ns(b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ns(c)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // resumed from before 1: missed then live, nothing twice
    expect(fanout.clients()).toBe(3);
    expect((await metrics.registry.getSingleMetric('kansui_sse_clients')!.get()).values[0]!.value).toBe(3);
    for (const s of [a, b, c]) await s.close();
    await waitFor(() => fanout.clients() === 0, { what: 'clients gone' });
    expect(hub.subscribers()).toBe(0); // the fan-out's own listener goes with the last client
  });

  it('tells each viewer its own reconnection time, 2–5 s, so the viewers of a lost process do not all come back at once', async () => {
    const hub = createEventHub({ bootId: 'fan' });
    const { port } = await serve(hub);
    const retries = await Promise.all(
      Array.from({ length: 20 }, () =>
        new Promise<number>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
          let text = '';
          socket.on('data', (chunk: Buffer) => {
            text += chunk.toString('latin1');
            const m = /\r\n\r\nretry: (\d+)\n\n/.exec(text);
            if (m) resolve(Number(m[1])), socket.destroy();
          });
          socket.on('error', reject);
        }),
      ),
    );
    for (const r of retries) {
      expect(r).toBeGreaterThanOrEqual(RETRY_MIN_MS);
      expect(r).toBeLessThan(RETRY_MIN_MS + RETRY_SPREAD_MS);
    }
    expect(new Set(retries).size).toBeGreaterThan(1);
  });

  it('an unknown Last-Event-ID gets a resync first', async () => {
    const hub = createEventHub({ bootId: 'fan' });
    const { url } = await serve(hub);
    const s = openSse(url, { 'Last-Event-ID': 'another-boot-7' });
    await s.waitFor((e) => e.event === 'resync');
    await s.close();
  });

  it('sends the heartbeat comment from one timer', async () => {
    const hub = createEventHub({ bootId: 'fan' });
    const { port } = await serve(hub, { heartbeatMs: 50 });
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.write('GET / HTTP/1.0\r\n\r\n');
    try {
      await waitFor(() => text.includes(': keep-alive\n\n'), { timeoutMs: 10_000, what: () => `a heartbeat in ${JSON.stringify(text)}` });
    } finally {
      socket.destroy();
    }
  });

  it('drops a client that does not read once its unsent bytes pass the limit (it would resume with Last-Event-ID)', async () => {
    const hub = createEventHub({ bootId: 'fan', replay: 10_000 });
    const { port, fanout } = await serve(hub, { maxBufferedBytes: 64 * 1024, coalesceMs: 0 });
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.0\r\n\r\n');
    await waitFor(() => fanout.clients() === 1, { what: 'the client attached' });
    socket.pause(); // a phone on a dead cell: the kernel buffers fill, then node's
    const big = 'x'.repeat(4000);
    try {
      await waitFor(
        () => {
          hub.publish('reading', { big });
          return fanout.clients() === 0;
        },
        { timeoutMs: 20_000, intervalMs: 1, what: 'the slow client dropped' },
      );
    } finally {
      socket.destroy();
    }
  });
});
