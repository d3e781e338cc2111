#!/usr/bin/env node
// The `kansui` command (package.json "bin"). Runs the TypeScript sources
// through tsx's loader, so `npx kansui` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/run.ts');
