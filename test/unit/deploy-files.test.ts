import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { npmScriptArgs } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(`${ROOT}${p}`, 'utf8');

describe('deploy files', () => {
  // The memory target (issue 2) is measured with npm start's node flags; a deployment must run the same command.
  const start = ['node', ...npmScriptArgs('start', ROOT)].join(' ');

  it('npm start runs the compiled service, built first when stale (issue 15)', () => {
    expect(start).toBe('node --heap-growing-percent=50 dist/services/main.js');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBe('node scripts/build.mjs --if-stale');
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
  });

  it('production dependencies hold no TypeScript tooling: the image installs them alone (npm ci --omit=dev)', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.dependencies)).not.toContain('typescript');
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['tsx', 'typescript']));
  });

  it('everything the compiled service imports at run time is a production dependency or built into Node', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const files = (dir: string): string[] =>
      readdirSync(`${ROOT}${dir}`, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(`${dir}/${e.name}`) : /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.mts') ? [`${dir}/${e.name}`] : []));
    const missing = new Set<string>();
    const seen = new Set<string>();
    for (const file of files('services')) {
      const src = read(file);
      // `import type` and `export type` vanish in the build; everything else is loaded by Node.
      const specs = [...src.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] as string);
      for (const spec of specs) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
        seen.add(name);
        if (!(name in pkg.dependencies)) missing.add(`${file}: ${spec}`);
      }
    }
    expect([...missing]).toEqual([]);
    expect([...seen]).toEqual(expect.arrayContaining(['hono', 'mqtt', 'aedes', 'better-sqlite3', 'zod'])); // the scan found the imports
  });

  it('the example environment for the production topology is a valid configuration (dynamic security)', () => {
    const env = Object.fromEntries(
      read('deploy/systemd/kansui-influx.env.example')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const config = loadConfig(env);
    expect(config.MOSQUITTO_DYNSEC).toBe(true);
    expect(config.MOSQUITTO_PASSWORD_FILE).toBeUndefined();
    expect(config.STORE).toBe('influx');
  });

  it('systemd starts the service exactly as npm start does, all in one and every role (issue 15)', () => {
    for (const unit of ['kansui.service', 'kansui-core.service', 'kansui-ingest@.service', 'kansui-web@.service']) {
      const exec = /^ExecStart=(.*)$/m.exec(read(`deploy/systemd/${unit}`))?.[1];
      expect(exec?.replace(/^\/usr\/bin\/node/, 'node'), unit).toBe(start);
    }
  });

  it('the role units: each sets its role and instance (which names its bus client); an ingest worker its own MQTT session; an instance of ingest or web gets its HTTP_PORT from its own file', () => {
    const env = (unit: string) => [...read(`deploy/systemd/${unit}`).matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => `${m[1]}=${m[2]}`);
    expect(env('kansui-core.service')).toEqual(expect.arrayContaining(['KANSUI_ROLE=core', 'HTTP_PORT=8080']));
    expect(env('kansui-ingest@.service')).toEqual(expect.arrayContaining(['KANSUI_ROLE=ingest', 'KANSUI_INSTANCE=%i', 'MQTT_SHARE_GROUP=kansui', 'MQTT_CLIENT_ID=kansui-ingest-%i']));
    expect(env('kansui-web@.service')).toEqual(expect.arrayContaining(['KANSUI_ROLE=web', 'KANSUI_INSTANCE=%i']));
    expect(read('deploy/systemd/kansui-ingest@.service')).toMatch(/^EnvironmentFile=\/etc\/kansui\/ingest-%i\.env$/m);
    expect(read('deploy/systemd/kansui-web@.service')).toMatch(/^EnvironmentFile=\/etc\/kansui\/web-%i\.env$/m);
    // The shared file must not override what the units set per role and instance (files win over Environment=).
    const shared = read('deploy/systemd/kansui-roles.env.example');
    expect(shared).not.toMatch(/^(KANSUI_ROLE|KANSUI_INSTANCE|HTTP_PORT|MQTT_CLIENT_ID|MQTT_SHARE_GROUP|MOSQUITTO_DYNSEC_PASSWORD)=/m);
    expect(read('deploy/systemd/core.env.example')).toMatch(/^MOSQUITTO_DYNSEC_PASSWORD=/m);
  });

  it('the container image starts the service exactly as npm start does, and compose overrides it for no role', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect((JSON.parse(cmd ?? '[]') as string[]).join(' ')).toBe(start);
    const compose = read('deploy/compose.yaml');
    // Every kansui service is built from the one anchor, which has no command of its own.
    const anchor = /^x-kansui: &kansui\n((?: {2}.*\n|\n)*)/m.exec(compose)?.[1] ?? '';
    expect(anchor).toContain('dockerfile: Dockerfile');
    expect(anchor).not.toMatch(/^ {2}(command|entrypoint):/m);
    for (const service of ['core', 'ingest-1', 'ingest-2', 'web-1', 'web-2']) {
      const body = new RegExp(`^ {2}${service}:\\n((?: {4}.*\\n|\\n)*)`, 'm').exec(compose)?.[1] ?? '';
      expect(body, service).toContain('<<: *kansui\n');
      expect(body, service).not.toMatch(/^ {4}(command|entrypoint|build):/m);
    }
  });

  it('the image is non-root, installs production dependencies only and checks /healthz', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=(22|24)$/m);
  });
});
