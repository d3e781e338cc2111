import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * A vitest reporter (issue 16) that keeps, in the file named by
 * `KANSUI_TEST_PROGRESS`, the test files running right now and the test each
 * is in, so that whoever stops a hung run (`.ci/test-with-deadline`) can say
 * what hung. It runs in vitest's main process, which does no test work, so it
 * keeps working while a worker's event loop is starved; every 10 s it also
 * warns on stderr about a file past its deadline (`KANSUI_TEST_FILE_DEADLINE_S`).
 * Without `KANSUI_TEST_PROGRESS` it only warns.
 */
export class ProgressReporter implements Reporter {
  private readonly running = new Map<string, { since: number; test?: string }>();
  private readonly warned = new Set<string>();
  private readonly path = process.env.KANSUI_TEST_PROGRESS;
  private readonly fileDeadlineMs = fileDeadlineS() * 1000;
  private timer: NodeJS.Timeout | undefined;

  onTestRunStart(): void {
    this.write();
    this.timer = setInterval(() => this.checkDeadlines(), 10_000);
    this.timer.unref();
  }

  onTestModuleStart(m: TestModule): void {
    this.running.set(this.name(m), { since: Date.now() });
    this.write();
  }

  onTestCaseReady(t: TestCase): void {
    const entry = this.running.get(this.name(t.module));
    if (entry) entry.test = t.fullName;
    this.write();
  }

  onTestModuleEnd(m: TestModule): void {
    this.running.delete(this.name(m));
    this.write();
  }

  onTestRunEnd(): void {
    if (this.timer) clearInterval(this.timer);
    this.running.clear();
    this.write();
  }

  private name(m: TestModule): string {
    return relative(process.cwd(), m.moduleId);
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const [file, { since, test }] of this.running) {
      if (now - since <= this.fileDeadlineMs || this.warned.has(file)) continue;
      this.warned.add(file);
      process.stderr.write(`\nkansui: ${file} has run ${Math.round((now - since) / 1000)} s, past its ${this.fileDeadlineMs / 1000}-s deadline${test ? `, in "${test}"` : ''}\n`);
    }
  }

  private write(): void {
    if (!this.path) return;
    const lines = [...this.running].map(([file, { since, test }]) => `${file} (since ${new Date(since).toISOString()})${test ? ` › ${test}` : ''}`);
    try {
      writeFileSync(this.path, lines.length ? lines.join('\n') + '\n' : '');
    } catch {
      // A progress file we cannot write must not fail the run.
    }
  }
}

/** The longest one test file may run, in seconds (default 600: 4.5× the slowest file measured, main-process at 133 s). */
export function fileDeadlineS(): number {
  const s = Number(process.env.KANSUI_TEST_FILE_DEADLINE_S);
  return Number.isFinite(s) && s > 0 ? s : 600;
}
