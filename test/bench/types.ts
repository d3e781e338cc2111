/** One benchmark section of docs/benchmarks.md, produced by one `test/bench/*.bench.ts` module. */
export interface BenchRow {
  metric: string;
  value: string;
  /** The target from the issue, e.g. "≥ 30,000/s"; empty when informational. */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  pass?: boolean;
}

export interface BenchSection {
  /** Stable key: the section is replaced in place between `<!-- bench:KEY -->` markers. */
  key: string;
  title: string;
  /** How it was measured: command, load shape, what "end-to-end" spans. */
  method: string;
  rows: BenchRow[];
  notes?: string[];
}

export interface BenchModule {
  key: string;
  run(): Promise<BenchSection>;
}
