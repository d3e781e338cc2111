import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The floor for the SSE fan-out bench (issue 15): a bare node:http SSE loop and nothing else.
 * GET /api/events holds a stream; GET /fire?level=N writes one reading-sized frame to every
 * stream in a plain loop (one Buffer for all). Prints {"port": N} once listening.
 */
const clients = new Set<ServerResponse>();
let seq = 0;
const server = createServer((req, res) => {
  if (req.url?.startsWith('/fire')) {
    const level = Number(new URL(req.url, 'http://x').searchParams.get('level'));
    seq += 1;
    const data = JSON.stringify({ sensor_id: 'sse-bench', name: 'bench', ts: new Date().toISOString(), level_cm: level, status: 'normal' });
    const frame = Buffer.from(`id: floor-${seq}\nevent: reading\ndata: ${data}\n\n`);
    for (const c of clients) c.write(frame);
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.write('retry: 3000\n\n');
  clients.add(res);
  res.once('close', () => clients.delete(res));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.once('SIGTERM', () => {
  for (const c of clients) c.destroy();
  server.close(() => process.exit(0));
});
