import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchSection } from './types.ts';

/**
 * `npm run bench [-- KEY …]`: run every benchmark module in test/bench/
 * (files named *.bench.ts exporting `bench: BenchModule`), or only the named
 * ones, and rewrite their sections of docs/benchmarks.md in place, leaving
 * the other sections as they were. Each section records machine and date.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const docPath = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
}

function render(s: BenchSection, when: string): string {
  const lines = [
    `<!-- bench:${s.key} -->`,
    `## ${s.title}`,
    '',
    `Measured ${when} on ${machine()} with \`npm run bench -- ${s.key}\`.`,
    '',
    s.method,
    '',
    '| metric | result | target | met |',
    '|---|---|---|---|',
    ...s.rows.map((r) => `| ${r.metric} | ${r.value} | ${r.target ?? ''} | ${r.pass === undefined ? '' : r.pass ? 'yes' : '**no**'} |`),
  ];
  if (s.notes?.length) lines.push('', ...s.notes.map((n) => `- ${n}`));
  lines.push(`<!-- /bench:${s.key} -->`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
  // Read the file afresh just before each write: a benchmark runs for minutes,
  // and another run (another module) may have rewritten its own section meanwhile.
  const readDoc = () =>
    existsSync(docPath)
      ? readFileSync(docPath, 'utf8')
      : '# Benchmarks\n\nWritten by `npm run bench` (test/bench/). Each section says when and on what machine it was measured; targets come from the issues.\n';
  for (const file of files) {
    const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as { bench: BenchModule };
    if (only.length && !only.includes(mod.bench.key)) continue;
    process.stderr.write(`bench: ${mod.bench.key} …\n`);
    const section = await mod.bench.run();
    const text = render(section, new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
    const re = new RegExp(`<!-- bench:${section.key} -->[\\s\\S]*?<!-- /bench:${section.key} -->`);
    const doc = readDoc();
    writeFileSync(docPath, re.test(doc) ? doc.replace(re, () => text) : `${doc.trimEnd()}\n\n${text}\n`);
    process.stderr.write(text + '\n');
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
