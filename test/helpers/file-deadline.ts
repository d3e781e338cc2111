import { writeSync } from 'node:fs';
import { relative } from 'node:path';
import { afterAll, expect } from 'vitest';
import { fileDeadlineS } from './progress-reporter.ts';

/**
 * A hard deadline for each test file (issue 16), loaded by vitest as a setup
 * file in the file's worker. testTimeout and hookTimeout end a test that waits
 * forever, but not work a timed-out test left running, nor a file whose tests
 * together go on and on: past `KANSUI_TEST_FILE_DEADLINE_S` the worker says so
 * and kills itself, and vitest reports the file as failed. (vitest turns
 * `process.exit` in a worker into a thrown error, hence the signal.)
 */
const testPath = expect.getState().testPath;
const file = testPath ? relative(process.cwd(), testPath) : 'this test file';
const limitS = fileDeadlineS();
const timer = setTimeout(() => {
  writeSync(2, `\nkansui: ${file} ran past its ${limitS}-s deadline (KANSUI_TEST_FILE_DEADLINE_S); killing its worker\n`);
  process.kill(process.pid, 'SIGKILL');
}, limitS * 1000);
timer.unref();
afterAll(() => clearTimeout(timer));
