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
