import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The OASIS CAP 1.2 schema (test/fixtures/cap/SOURCE.md). */
export const CAP_XSD = fileURLToPath(new URL('../fixtures/cap/CAP-v1.2.xsd', import.meta.url));

/** Validate with xmllint (Debian libxml2-utils): against `schema`, or only well-formedness. */
export async function xmllint(xml: string, dir: string, schema?: string): Promise<{ ok: boolean; output: string }> {
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    const r = await run('xmllint', ['--noout', ...(schema ? ['--schema', schema] : []), file], { timeout: 30_000 });
    return { ok: true, output: r.stderr };
  } catch (err) {
    return { ok: false, output: (err as { stderr?: string }).stderr ?? String(err) };
  }
}
