import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Every process a benchmark started and has not seen exit. */
export const children = new Set<ChildProcess>();

// If the bench dies without its finally blocks (an uncaught error, a closed stdout pipe),
// take the service, brokers and load generators with it.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Remember a child so it is stopped with the bench. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Signal a child and wait for it to exit; SIGKILL after 10 s. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lines of JSON a child prints on stdout, as they arrive. */
export function jsonLines(child: ChildProcess): { next(match: (o: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> } {
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  child.stdout?.on('data', (d) => {
    buffer += d;
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (!line.startsWith('{')) continue;
      try {
        seen.push(JSON.parse(line));
      } catch {
        continue;
      }
      for (const w of waiters) w();
    }
  });
  return {
    next(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const idx = seen.findIndex(match);
          if (idx >= 0) {
            cleanup();
            resolve(seen.splice(idx, 1)[0] as Record<string, unknown>);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            // A child ended by a signal has signalCode set and exitCode null: waiting on would last the whole timeout.
            cleanup();
            reject(new Error(`${what}: process exited ${child.exitCode ?? child.signalCode}: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${what}: timed out after ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        const onExit = () => check();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.on('exit', onExit);
        check();
      });
    },
  };
}
