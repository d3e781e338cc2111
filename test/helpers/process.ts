import { spawn } from 'node:child_process';

/**
 * Run a TypeScript entry point in its own Node process through tsx, as
 * `npm start` / `npm run demo` do, collecting its output.
 */
export function spawnTs(entry: string, args: string[], env: Record<string, string>, cwd?: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    ...(cwd && { cwd }),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}
