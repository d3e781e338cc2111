import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] as string);
}

describe('architecture', () => {
  it('services/core is pure: it imports only zod, its own files and the shared word catalogue (no node:*, no adapters, no I/O libraries)', () => {
    const core = join(ROOT, 'services/core');
    // Issue 16: web/shared/ holds what the browser and the server both load (the one word catalogue); pure, see below.
    const shared = join(ROOT, 'web/shared');
    const offenders: string[] = [];
    for (const file of filesUnder(core)) {
      for (const spec of importsOf(file)) {
        const target = join(file, '..', spec);
        const allowed = spec.startsWith('.') ? target.startsWith(core) || target.startsWith(shared + '/') : spec === 'zod';
        if (!allowed) offenders.push(`${relative(ROOT, file)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('web/shared/ is pure too: no imports, no DOM, no Node (the core and the browser both load it, issue 16)', () => {
    const shared = join(ROOT, 'web/shared');
    const offenders: string[] = [];
    for (const name of readdirSync(shared).filter((n) => n.endsWith('.js'))) {
      const code = readFileSync(join(shared, name), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      if (importsOf(join(shared, name)).length > 0) offenders.push(`web/shared/${name} imports`);
      const used = code.match(/\b(document|window|localStorage|navigator|process|require|globalThis)\b/);
      if (used) offenders.push(`web/shared/${name} uses ${used[1]}`);
    }
    expect(offenders).toEqual([]);
  });

    it('only the composition roots read process.env', () => {
    // config.ts only as loadConfig's default argument (STYLE.md: loadConfig(env = process.env)).
    const allowed = new Set(['services/config.ts', 'services/main.ts', 'services/cli/run.ts', 'firmware-sim/demo.ts', 'firmware-sim/cli.ts']);
    const offenders = filesUnder(join(ROOT, 'services'))
      .map((f) => relative(ROOT, f))
      .filter((f) => !allowed.has(f) && /process\.env\b/.test(readFileSync(join(ROOT, f), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')));
    expect(offenders).toEqual([]);
  });

  it('no file under services/ outside services/storage imports better-sqlite3 (SQL in one place, issue 16)', () => {
    const storage = join(ROOT, 'services/storage');
    const offenders = filesUnder(join(ROOT, 'services'))
      .filter((f) => !f.startsWith(storage + '/'))
      .filter((f) => importsOf(f).includes('better-sqlite3'))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('docs/architecture.md names every storage adapter and contract suite, and every path it names exists (issue 16)', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const named = new Set([...doc.matchAll(/`((?:services|test)\/[^`\s]+?)`/g)].map((m) => m[1] as string));
    const missing = [...named].filter((p) => !existsSync(join(ROOT, p)));
    expect(missing, 'paths in docs/architecture.md that do not exist').toEqual([]);
    const adapters = readdirSync(join(ROOT, 'services/storage')).filter((f) => /^(memory|sqlite|influx)-.+\.ts$/.test(f)).map((f) => `services/storage/${f}`);
    const suites = readdirSync(join(ROOT, 'test/contract')).filter((f) => f.endsWith('.ts')).map((f) => `test/contract/${f}`);
    expect([...adapters, ...suites].filter((p) => !named.has(p)), 'adapters and suites docs/architecture.md does not list').toEqual([]);
  });

  it('features take their state through ports: only the composition roots import storage adapters (issue 16)', () => {
    // secrets.ts is hashing of generated secrets, not state; the roots choose adapters (docs/architecture.md).
    const roots = (f: string) => f === 'services/main.ts' || f.startsWith('services/root/') || f.startsWith('services/cli/');
    const storage = join(ROOT, 'services/storage');
    const offenders: string[] = [];
    for (const file of filesUnder(join(ROOT, 'services'))) {
      const rel = relative(ROOT, file);
      if (rel.startsWith('services/storage/') || roots(rel)) continue;
      for (const spec of importsOf(file)) {
        const target = spec.startsWith('.') ? join(file, '..', spec) : '';
        if (target.startsWith(storage + '/') && !target.endsWith('/secrets.ts')) offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
