import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * SSE viewers for the fan-out bench (issue 15), thousands per process on raw sockets: the bench
 * measures the server, so the readers must stay cheap. Each asks with HTTP/1.0, so the body is
 * the bare event stream (no chunked framing to undo, also through nginx). Commands are JSON lines
 * on stdin, answers JSON lines on stdout:
 * - {"cmd":"connect","host","port","count","localAddress"?,"reconnect"?} → {"connected","failed"}
 * - {"cmd":"report","level"} → {"level","times":[ms since epoch, one per viewer that got it],"missing"}
 * - {"cmd":"count","level"} → {"counted":level,"count","open"}
 * - {"cmd":"stats"} → {"open","reconnects","resyncs","duplicates"}
 * - {"cmd":"close"} → {"closed"}
 * A reading is recognised by its `"level_cm":N` (the bench gives each one its own N).
 */
interface Viewer {
  socket: Socket;
  rest: string;
  lastId: string | undefined;
  gotHead: boolean;
  /** Levels this viewer has had, carried over its reconnects. */
  seen: Set<number>;
  /** Opened to resume: tried again whatever the outcome. */
  resume: boolean;
  /** Failed resume attempts in a row before this one. */
  failures: number;
  /** The server's `retry:` (ms), carried over reconnects like EventSource's reconnection time. */
  retryMs: number;
}

const now = () => performance.timeOrigin + performance.now();
const arrivals = new Map<number, number[]>();
const viewers = new Set<Viewer>();
let target = { host: '127.0.0.1', port: 0, localAddress: undefined as string | undefined, reconnect: false };
let reconnects = 0;
let resyncs = 0;
let duplicates = 0;
/** The status line of the last refused attempt, for the bench's error message. */
let lastRefusal = '';
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

function onBlock(v: Viewer, block: string): void {
  if (block.startsWith('retry: ')) v.retryMs = parseInt(block.slice(7), 10) || v.retryMs;
  const id = block.indexOf('id: ');
  if (id === 0 || (id > 0 && block[id - 1] === '\n')) {
    const end = block.indexOf('\n', id);
    v.lastId = block.slice(id + 4, end < 0 ? undefined : end);
  }
  if (block.includes('event: resync')) resyncs++;
  // Only the reading itself: a status event may carry the level too.
  const at = block.includes('event: reading') ? block.indexOf('"level_cm":') : -1;
  if (at >= 0) {
    const level = parseInt(block.slice(at + 11, at + 24), 10);
    if (v.seen.has(level)) return void duplicates++;
    v.seen.add(level);
    let list = arrivals.get(level);
    if (!list) arrivals.set(level, (list = []));
    list.push(now());
  }
}

function open(lastId: string | undefined, seen: Set<number>, onReady?: (ok: boolean) => void, retryMs = 3000): Viewer {
  const socket = connect({ host: target.host, port: target.port, ...(target.localAddress && { localAddress: target.localAddress }) });
  const v: Viewer = { socket, rest: '', lastId, gotHead: false, seen, resume: !onReady, failures: 0, retryMs };
  let settled = false;
  const settle = (ok: boolean) => {
    if (!settled) (settled = true), onReady?.(ok);
  };
  socket.setNoDelay(true);
  socket.on('connect', () => {
    socket.write(`GET /api/events HTTP/1.0\r\nHost: bench\r\nAccept: text/event-stream\r\n${lastId ? `Last-Event-ID: ${lastId}\r\n` : ''}\r\n`);
  });
  socket.on('data', (chunk: Buffer) => {
    let text = v.rest + chunk.toString('latin1');
    if (!v.gotHead) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return void (v.rest = text);
      if (!text.startsWith('HTTP/1.1 200') && !text.startsWith('HTTP/1.0 200')) {
        lastRefusal = text.slice(0, text.indexOf('\r\n'));
        return void (settle(false), socket.destroy());
      }
      v.gotHead = true;
      viewers.add(v);
      text = text.slice(end + 4);
    }
    let i: number;
    while ((i = text.indexOf('\n\n')) >= 0) {
      onBlock(v, text.slice(0, i));
      text = text.slice(i + 2);
      settle(true);
    }
    v.rest = text;
  });
  socket.on('error', (err) => void (lastRefusal = err.message));
  socket.on('close', () => {
    const was = viewers.delete(v);
    settle(false);
    if ((was || v.resume) && target.reconnect) {
      reconnects++;
      // EventSource waits the server's `retry` (kansui sends 2–5 s, at random per viewer) before it
      // reconnects, and browsers back off when that fails too (WHATWG HTML §9.2.3 allows it; Chrome
      // and Firefox do): doubling after each failure up to 30 s.
      const failures = was ? 0 : v.failures + 1;
      const delay = Math.min(30_000, v.retryMs * 2 ** failures);
      setTimeout(() => {
        const next = open(v.lastId, v.seen, undefined, v.retryMs);
        next.failures = failures;
      }, delay);
    }
  });
  return v;
}

async function connectMany(count: number): Promise<{ connected: number; failed: number }> {
  let connected = 0;
  let failed = 0;
  let started = 0;
  const inFlight = 200;
  await new Promise<void>((resolve) => {
    const next = () => {
      if (connected + failed === count) return resolve();
      if (started >= count) return;
      started++;
      // Like EventSource, try again a few times before giving up on a viewer.
      const attempt = (left: number) =>
        open(undefined, new Set(), (ok) => {
          if (ok) connected++;
          else if (left > 0) return void setTimeout(() => attempt(left - 1), 200 + Math.random() * 300);
          else failed++;
          next();
        });
      attempt(5);
    };
    for (let k = 0; k < Math.min(inFlight, count); k++) next();
  });
  return { connected, failed };
}

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Record<string, unknown>;
  if (cmd.cmd === 'connect') {
    target = { host: String(cmd.host ?? '127.0.0.1'), port: Number(cmd.port), localAddress: cmd.localAddress as string | undefined, reconnect: Boolean(cmd.reconnect) };
    out({ ...(await connectMany(Number(cmd.count))), lastRefusal });
  } else if (cmd.cmd === 'report') {
    const times = arrivals.get(Number(cmd.level)) ?? [];
    let missing = 0;
    for (const v of viewers) if (!v.seen.has(Number(cmd.level))) missing++;
    out({ level: cmd.level, times, missing });
  } else if (cmd.cmd === 'count') {
    let count = 0;
    for (const v of viewers) if (v.seen.has(Number(cmd.level))) count++;
    out({ counted: cmd.level, count, open: viewers.size });
  } else if (cmd.cmd === 'stats') {
    out({ open: viewers.size, reconnects, resyncs, duplicates });
  } else if (cmd.cmd === 'close') {
    target.reconnect = false;
    for (const v of viewers) v.socket.destroy();
    viewers.clear();
    out({ closed: true });
  }
}
