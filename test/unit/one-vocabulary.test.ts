import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as catalogue from '../../web/shared/messages.js';

// Issue 16: the status and level words are defined once, in web/shared/messages.js, and the map, the
// console and the server (alerts, CAP/Atom, LINE, the board, the audit log) take them from there.
// A word written out again as a string literal anywhere in web/ or services/ is a second definition.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CATALOGUE = 'web/shared/messages.js';

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, ext) : ext.test(name) ? [path] : [];
  });
}

const vocabularies = [catalogue.STATUS_WORDS, catalogue.RIVER_STAGE_WORDS, catalogue.SENSOR_STATE_WORDS, catalogue.ALERT_KIND_WORDS, { flood: catalogue.RIVER_FLOOD_WORDS }];
const WORDS = [...new Set(vocabularies.flatMap((v) => Object.values(v).flatMap((w) => [w.ja, w.en])))];

/** The same spelling for another meaning, each with its reason. */
const HOMONYMS = new Set([
  // 発生中: an alert still open, not a sensor's operating state (運用中).
  "web/console/i18n.js: 'Active'",
]);

/** Each place a word stands alone as a string literal ('平常', "Caution", `欠測`) or as an HTML element's whole text. */
function definitionsIn(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const word of WORDS) {
    const forms = file.endsWith('.html') ? [`>${word}<`] : [`'${word}'`, `"${word}"`, `\`${word}\``];
    for (const form of forms) if (src.includes(form) && !HOMONYMS.has(`${relative(ROOT, file)}: ${form}`)) found.push(`${relative(ROOT, file)}: ${form}`);
  }
  return found;
}

describe('one vocabulary (issue 16)', () => {
  it('the catalogue names every status, river level, sensor state and alert kind in both languages', () => {
    expect(Object.keys(catalogue.STATUS_WORDS)).toEqual(['normal', 'caution', 'warning', 'danger', 'offline']);
    expect(Object.keys(catalogue.RIVER_STAGE_WORDS)).toEqual(['standby', 'caution', 'warning', 'danger', 'planHighWater']);
    expect(catalogue.STATUS_WORDS.danger).toEqual({ ja: '危険', en: 'Danger' });
    expect(catalogue.RIVER_STAGE_WORDS.danger).toEqual({ ja: '氾濫危険水位', en: 'Flood danger level' });
    for (const w of vocabularies.flatMap((v) => Object.values(v))) {
      expect(w.ja).not.toBe('');
      expect(w.en).not.toBe('');
      // A reading never closes a road: only the city does (services/core/closure.ts).
      expect(w.ja).not.toContain('通行止め');
    }
  });

  it('no status or level word is written out anywhere in web/ or services/ but the catalogue', () => {
    const files = [...filesUnder(join(ROOT, 'web'), /\.(js|html)$/), ...filesUnder(join(ROOT, 'services'), /\.(ts|js|mjs)$/)].filter((f) => relative(ROOT, f) !== CATALOGUE);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(definitionsIn)).toEqual([]);
  });

  it('this check finds a second definition', () => {
    const fake = join(ROOT, 'web/shared/messages.js');
    expect(definitionsIn(fake).length).toBeGreaterThan(10);
  });

  it('the language is remembered under one key, and the console\'s old key is moved over once', () => {
    const store = new Map<string, string>([['kansui-console-lang', 'en']]);
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
    expect(catalogue.readLang(storage)).toBe('en');
    expect([...store]).toEqual([[catalogue.LANG_STORAGE_KEY, 'en']]);
    catalogue.saveLang(storage, 'ja');
    expect(catalogue.readLang(storage)).toBe('ja');
    const blocked = { getItem: () => { throw new Error('SecurityError'); }, setItem: () => { throw new Error('SecurityError'); }, removeItem: () => {} };
    expect(catalogue.readLang(blocked)).toBe('ja');
    expect(() => catalogue.saveLang(blocked, 'en')).not.toThrow();
  });

  it('both pages find their storage one way: a page whose localStorage throws on access (blocked) still gets Japanese', () => {
    // The pages pass `() => localStorage`: reading that property is what throws where storage is blocked.
    const blocked = () => { throw new Error('SecurityError'); };
    expect(catalogue.readLang(blocked)).toBe('ja');
    expect(() => catalogue.saveLang(blocked, 'en')).not.toThrow();
    expect(catalogue.readLang(() => undefined)).toBe('ja');
    const mine = { getItem: () => 'en', setItem: () => {}, removeItem: () => {} };
    expect(catalogue.readLang(() => mine)).toBe('en');
    for (const page of ['web/js/i18n.js', 'web/console/i18n.js']) {
      const src = readFileSync(join(ROOT, page), 'utf8');
      expect(src, page).toContain('readLang(() => localStorage)');
      expect(src, page).toContain('saveLang(() => localStorage, ');
    }
  });

  it('one markup escape, safe in text and in either quote', () => {
    expect(catalogue.esc(`<a href="x" title='y'>A&B</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;A&amp;B&lt;/a&gt;');
  });
});
