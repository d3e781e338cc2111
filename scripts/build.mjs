#!/usr/bin/env node
// `npm run build` (issue 15): compile services/ and firmware-sim/ to dist/ with the project's
// TypeScript, then copy what tsc does not emit: the plain .mjs worker modules next to their
// importers and web/ (create-api.js serves ../../web/ relative to itself, so dist/web/).
// `--if-stale` (npm's prestart) builds only when a source is newer than the last build, and
// never fails a production install that has dist/ but no TypeScript (npm ci --omit=dev).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp');
/** Everything the build reads: a change to any of these makes dist/ stale. */
const INPUTS = ['services', 'firmware-sim', 'web', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file shows up as its folder's mtime
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function isStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.some((p) => newestMtime(join(ROOT, p)) > built);
}

function findTsc() {
  try {
    // typescript's exports map hides bin/; find the package through its package.json and use its "bin".
    const pkg = createRequire(join(ROOT, 'package.json')).resolve('typescript/package.json');
    const tsc = join(dirname(pkg), JSON.parse(readFileSync(pkg, 'utf8')).bin.tsc);
    return existsSync(tsc) ? tsc : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One build at a time in this checkout: two `npm start`s (or two test files)
 * starting together would otherwise swap dist/ under each other. A lock
 * directory (mkdir is atomic) holding the builder's pid; one left by a build
 * that is gone (killed) is taken over.
 */
const LOCK = join(ROOT, '.dist-lock');
function acquireLock() {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (!holderAlive()) rmSync(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) {
      process.stderr.write(`kansui build: another build holds ${LOCK} for 3 minutes; remove it if no build is running\n`);
      process.exit(1);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // poll the lock every 100 ms
  }
}

/** Is the build holding the lock still running? (A lock just made may not have its pid yet: alive.) */
function holderAlive() {
  let pid;
  try {
    pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
  } catch {
    try {
      return Date.now() - statSync(LOCK).mtimeMs < 10_000;
    } catch {
      return false; // gone meanwhile
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const ifStale = process.argv.includes('--if-stale');
if (ifStale && !isStale()) process.exit(0);
acquireLock();
process.on('exit', () => rmSync(LOCK, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
// Another build may have finished while this one waited.
if (ifStale && !isStale()) process.exit(0);
const tsc = findTsc();
if (!tsc) {
  if (ifStale && existsSync(STAMP)) {
    process.stderr.write('kansui build: TypeScript is not installed (production install); running the existing dist/\n');
    process.exit(0);
  }
  process.stderr.write('kansui build: TypeScript is not installed; run `npm install` (with dev dependencies) first\n');
  process.exit(1);
}

// Build beside dist/ and swap it in, so a running service or a concurrent reader never sees half a tree.
const tmp = join(ROOT, `.dist-build-${process.pid}`);
rmSync(tmp, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { cwd: ROOT, stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  process.exit(result.status ?? 1);
}

function copyMjs(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyMjs(path);
    else if (name.endsWith('.mjs')) {
      const target = join(tmp, relative(ROOT, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
copyMjs(join(ROOT, 'services'));
cpSync(join(ROOT, 'web'), join(tmp, 'web'), { recursive: true });
writeFileSync(join(tmp, '.build-stamp'), `${new Date().toISOString()}\n`);

const old = join(ROOT, `.dist-old-${process.pid}`);
if (existsSync(DIST)) renameSync(DIST, old);
renameSync(tmp, DIST);
rmSync(old, { recursive: true, force: true });
if (!ifStale) process.stdout.write(`kansui build: dist/ ready\n`);
