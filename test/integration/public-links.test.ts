import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { makeTempDir, startTestKansui } from '../helpers/kansui.ts';

// Issue 12: links the city configures for residents (避難情報, ハザードマップ, 避難所, disaster page),
// from PUBLIC_LINKS or DATA_DIR/public-links.json, served in /api/config; https or relative only.
describe('city links for residents', () => {
  const links = [
    { kind: 'evacuation', url: 'https://city.example/evacuation' },
    { kind: 'hazard_map', url: '/hazard-map.pdf' },
    { kind: 'other', url: 'https://city.example/river', label: '河川カメラ', label_en: 'River cameras' },
  ];

  it('PUBLIC_LINKS is validated at start: https or a path on this site, kinds known, other needs a label', () => {
    expect(loadConfig({ PUBLIC_LINKS: JSON.stringify(links) }).PUBLIC_LINKS).toEqual(links);
    for (const [bad, why] of [
      [[{ kind: 'evacuation', url: 'http://city.example/evac' }], /PUBLIC_LINKS: 0\.url: url: https/],
      [[{ kind: 'evacuation', url: 'javascript:alert(1)' }], /PUBLIC_LINKS: 0\.url/],
      [[{ kind: 'evacuation', url: '//evil.example/x' }], /PUBLIC_LINKS: 0\.url/],
      [[{ kind: 'evacuation', url: 'https://user:pw@city.example/' }], /PUBLIC_LINKS: 0\.url/],
      [[{ kind: 'other', url: 'https://city.example/' }], /PUBLIC_LINKS: 0\.label/],
      [[{ kind: 'weather', url: 'https://city.example/' }], /PUBLIC_LINKS: 0\.kind/],
    ] as const) {
      expect(() => loadConfig({ PUBLIC_LINKS: JSON.stringify(bad) })).toThrow(why);
    }
    expect(() => loadConfig({ PUBLIC_LINKS: '{not json' })).toThrow(/PUBLIC_LINKS: not JSON/);
  });

  it('serves them in /api/config, from the environment or else from DATA_DIR/public-links.json; a bad file stops the start', async () => {
    const fromEnv = await startTestKansui({ PUBLIC_LINKS: JSON.stringify(links) });
    try {
      expect(((await (await fetch(`${fromEnv.httpUrl}/api/config`)).json()) as { links: unknown }).links).toEqual(links);
    } finally {
      await fromEnv.dispose();
    }

    const dir = makeTempDir('kansui-links-');
    try {
      writeFileSync(join(dir.dir, 'public-links.json'), JSON.stringify([{ kind: 'shelters', url: 'https://city.example/shelters' }]));
      const fromFile = await startTestKansui({}, { dataDir: dir.dir });
      try {
        expect(((await (await fetch(`${fromFile.httpUrl}/api/config`)).json()) as { links: unknown }).links).toEqual([{ kind: 'shelters', url: 'https://city.example/shelters' }]);
      } finally {
        await fromFile.dispose();
      }
      writeFileSync(join(dir.dir, 'public-links.json'), JSON.stringify([{ kind: 'shelters', url: 'http://city.example/shelters' }]));
      await expect(startTestKansui({}, { dataDir: dir.dir })).rejects.toThrow(/public-links\.json: 0\.url/);
    } finally {
      dir.remove();
    }
  });
});
