import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

/** The test helper itself (issue 16): matchers see each event once; waits fail with what and which events. */
describe('test/helpers/sse.ts', () => {
  let stream: ServerResponse | undefined;
  let url: string;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(': open\n\n');
    stream = res;
  });
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('calls each matcher once per event, past events included, and rejects by its deadline naming what it awaited and the last events', async () => {
    const sse = openSse(url);
    await sse.ready;
    for (let i = 1; i <= 3; i++) stream!.write(`id: ${i}\nevent: tick\ndata: ${i}\n\n`);
    await waitFor(() => sse.events.length === 3, { what: 'three events' });
    const calls: string[] = [];
    const seventh = sse.waitFor((e) => (calls.push(e.data), e.data === '7'));
    for (let i = 4; i <= 7; i++) stream!.write(`event: tick\ndata: ${i}\n\n`);
    expect((await seventh).data).toBe('7');
    expect(calls).toEqual(['1', '2', '3', '4', '5', '6', '7']);

    await expect(sse.waitFor((e) => e.data === 'never', { timeoutMs: 200, what: 'a never event' })).rejects.toThrow(
      /nothing matched within 200 ms while waiting for a never event; 7 events, the last 7:[\s\S]*tick 7/,
    );
    const pending = sse.waitFor((e) => e.data === 'never', { timeoutMs: 30_000, what: 'something after the end' });
    stream!.end();
    await expect(pending).rejects.toThrow(/the stream ended while waiting for something after the end/);
    await sse.close();
  });
});
