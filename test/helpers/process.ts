import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Node arguments of an npm script of ours (`node ARGS…`), read from
 * package.json, so tests and benchmarks start the service exactly as
 * `npm start` does, flags included.
 */
export function npmScriptArgs(script: string, root: string): string[] {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> };
  const [node, ...args] = (pkg.scripts[script] ?? '').split(/\s+/).filter(Boolean);
  if (node !== 'node') throw new Error(`npm script ${script} does not start with node`);
  return args;
}

/**
 * Run a TypeScript entry point in its own Node process through tsx, as
 * `npm start` / `npm run demo` do, collecting its output.
 */
export function spawnTs(entry: string, args: string[], env: Record<string, string>, cwd?: string, nodeArgs: string[] = ['--import', 'tsx']) {
  const child = spawn(process.execPath, [...nodeArgs, entry, ...args], {
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

/**
 * What npm's `prestart` does before `npm start` (issue 15): compile to dist/
 * when a source is newer than the last build. Tests and benches that start
 * the service as `npm start` does call this first.
 */
export function buildIfStale(root: string): void {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-stale'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
}
