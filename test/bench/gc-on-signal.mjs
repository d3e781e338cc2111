// Bench-only preload (NODE_OPTIONS='--expose-gc --import=…/gc-on-signal.mjs'): on SIGUSR2 run a full
// garbage collection and write the process's RSS, V8 heap used and external memory (bytes) to $BENCH_GC_FILE, so the SSE bench measures
// memory per viewer after GC in a process it did not write (kansui as `npm start` runs it).
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_GC_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
    const m = process.memoryUsage();
    writeFileSync(file, `${m.rss} ${m.heapUsed} ${m.external + m.arrayBuffers}`);
  });
}
