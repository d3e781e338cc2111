import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import { addSensorViaCli, runKansuiCli } from '../helpers/cli.ts';

// Issue 12: `kansui sensor add --site river` registers a river gauge (stored, and read back after a
// restart of the registry); without it a sensor is a road sensor; an unknown site is refused.
describe('kansui sensor add --site', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kansui-cli-site-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('river and road, persisted; --site lake refused', async () => {
    await addSensorViaCli(dataDir, ['--id', 'funato', '--name', '紀の川 船戸', '--lat', '34.27', '--lon', '135.36', '--site', 'river', '--caution', '250', '--warning', '330', '--danger', '380']);
    await addSensorViaCli(dataDir, ['--id', 'uchita', '--name', '打田', '--lat', '34.27', '--lon', '135.39']);
    const bad = await runKansuiCli(['sensor', 'add', '--id', 'lake-1', '--name', 'x', '--lat', '34', '--lon', '135', '--site', 'lake'], dataDir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/site/);
    const db = openMetadataDatabase(dataDir);
    try {
      const registry = createSqliteSensorRegistry(db);
      expect(registry.get('funato')).toMatchObject({ site: 'river', thresholds: { caution: 250, warning: 330, danger: 380 } });
      expect(registry.get('uchita')?.site ?? 'road').toBe('road');
      expect(registry.get('lake-1')).toBeUndefined();
    } finally {
      db.close();
    }
  });
});
