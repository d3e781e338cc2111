import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every image the docs show exists, and stays small (issue 12: screenshots in docs/map.md are
// made by `npm run docs:screenshots`, not by every test run; this only checks what they reference).
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A phone-sized screenshot is a few tens of KB; anything near this is a full-resolution mistake. */
const MAX_IMAGE_BYTES = 100 * 1024;

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f));
  return [join(ROOT, 'README.md'), ...docs].filter((f) => existsSync(f));
}

/** Local image paths in Markdown `![alt](path)` and HTML `<img src="path">`, resolved from the file. */
function imagesOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const paths = [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)/g), ...text.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]!);
  return paths.filter((p) => !/^[a-z]+:/i.test(p)).map((p) => resolve(dirname(file), decodeURI(p.split('#')[0]!)));
}

describe('images in the docs', () => {
  const refs = markdownFiles().flatMap((file) => imagesOf(file).map((image) => ({ file: file.slice(ROOT.length), image })));

  it('docs/map.md shows a road sensor and a river gauge at every level, in Japanese and English', () => {
    const map = refs.filter((r) => r.file === join('docs', 'map.md')).map((r) => r.image.slice(ROOT.length));
    for (const lang of ['ja', 'en']) {
      for (const level of ['normal', 'caution', 'warning', 'danger', 'offline']) expect(map).toContain(`docs/img/map-panel-road-${level}-${lang}.png`);
      for (const level of ['below-standby', 'standby', 'caution', 'warning', 'danger', 'plan-high-water', 'offline']) expect(map).toContain(`docs/img/map-panel-river-${level}-${lang}.png`);
    }
  });

  it('every referenced image exists and is under 100 KB', () => {
    expect(refs.length).toBeGreaterThan(0);
    const missing = refs.filter((r) => !existsSync(r.image)).map((r) => `${r.file} → ${r.image.slice(ROOT.length)}`);
    expect(missing).toEqual([]);
    const large = refs.filter((r) => statSync(r.image).size > MAX_IMAGE_BYTES).map((r) => `${r.image.slice(ROOT.length)} ${statSync(r.image).size} B`);
    expect(large).toEqual([]);
  });
});
