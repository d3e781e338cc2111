import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/**
 * Run the deliberately hanging fixture (test/fixtures/hang, outside the
 * suite's include pattern) the way `.ci/run` runs the suite: under
 * `.ci/test-with-deadline`, with the suite's reporter and per-file deadline.
 */
function runHangingFixture(env: Record<string, string>) {
  const child = spawn('bash', [`${ROOT}.ci/test-with-deadline`, process.execPath, VITEST, 'run', '--config', 'test/fixtures/hang/vitest.config.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the finally below can end all of it
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  /** `timeout` runs as the script's child, in a process group of its own. */
  const timeoutPid = () => {
    try {
      return Number(execFileSync('pgrep', ['-P', String(child.pid), '-x', 'timeout'], { encoding: 'utf8' }).trim().split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  const stop = () => {
    for (const pgid of [timeoutPid(), child.pid]) {
      try {
        if (pgid) process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  return { output: () => output, exited, timeoutPid, stop };
}

describe('tests that never hang (issue 16)', () => {
  it('.ci/test-with-deadline stops a hung run at its deadline and names the test file and test that were running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kansui-hang-'));
    const progress = join(dir, 'progress');
    const run = runHangingFixture({ KANSUI_TEST_DEADLINE_S: '600', KANSUI_TEST_FILE_DEADLINE_S: '600', KANSUI_TEST_PROGRESS: progress });
    try {
      await waitFor(() => run.output().includes('fixture: waiting forever'), { timeoutMs: 60_000, what: `the fixture to start (output: ${run.output()})` });
      // The worker prints before vitest's main process hears the test began: wait until the reporter has written it down.
      await waitFor(() => existsSync(progress) && readFileSync(progress, 'utf8').includes('› waits forever'), { timeoutMs: 30_000, what: 'the reporter to record the running test' });
      // SIGALRM makes timeout(1) act as if its time had run out (coreutils
      // timeout.c), so the deadline is reached now instead of after a sleep.
      const pid = await waitFor(run.timeoutPid, { what: 'the timeout process' });
      process.kill(pid, 'SIGALRM');
      const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 45_000))]);
      expect(code, run.output()).toBe(124);
      expect(run.output()).toMatch(/passed its 600-s deadline/);
      expect(run.output()).toMatch(/test\/fixtures\/hang\/hang\.fixture\.ts \(since [^)]+\) › waits forever/);
    } finally {
      run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a test file past KANSUI_TEST_FILE_DEADLINE_S is stopped and named, though its test has a far later timeout', async () => {
    const run = runHangingFixture({ KANSUI_TEST_DEADLINE_S: '600', KANSUI_TEST_FILE_DEADLINE_S: '2' });
    try {
      const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
      expect(code, run.output()).toBe(1);
      expect(run.output()).toMatch(/test\/fixtures\/hang\/hang\.fixture\.ts ran past its 2-s deadline/);
    } finally {
      run.stop();
    }
  }, 120_000);
});
