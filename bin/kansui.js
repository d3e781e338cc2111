#!/usr/bin/env node
// The `kansui` command (package.json "bin"). In a checkout it runs the
// TypeScript sources through tsx's loader, so `npx kansui` needs no build
// step; in a production image (dist/ only, no sources: Dockerfile) it runs
// the compiled CLI.
import { existsSync } from 'node:fs';

const sources = new URL('../services/cli/run.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/services/cli/run.js', import.meta.url).href);
}
