import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateVapidKeys, VAPID_FILE } from '../../services/alerting/vapid-file.ts';
import { makeTempDir } from '../helpers/kansui.ts';

describe('DATA_DIR/vapid.json (issue 12), made by several processes at once (issue 15)', () => {
  it('processes starting together on a fresh DATA_DIR all end up with the one pair written, mode 0600, no temp file left', async () => {
    const dir = makeTempDir('kansui-vapid-');
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateVapidKeys(dir.dir)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.keys.publicKey)).size).toBe(1);
      expect(statSync(join(dir.dir, VAPID_FILE)).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir.dir)).toEqual([VAPID_FILE]);
      const again = await loadOrCreateVapidKeys(dir.dir);
      expect(again).toEqual({ keys: results[0]?.keys, created: false });
    } finally {
      dir.remove();
    }
  });
});
