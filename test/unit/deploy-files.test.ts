import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { npmScriptArgs } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(`${ROOT}${p}`, 'utf8');

describe('deploy files', () => {
  // The memory target (issue 2) is measured with npm start's node flags; a deployment must run the same command.
  const start = ['node', ...npmScriptArgs('start', ROOT)].join(' ');

  it('systemd starts the service exactly as npm start does', () => {
    const exec = /^ExecStart=(.*)$/m.exec(read('deploy/systemd/kansui.service'))?.[1];
    expect(exec?.replace(/^\/usr\/bin\/node/, 'node')).toBe(start);
  });

  it('compose starts the service exactly as npm start does', () => {
    expect(read('deploy/compose.yaml')).toContain(`exec ${start}"`);
  });
});
