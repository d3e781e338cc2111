import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import { addSensorViaCli, runKansuiCli } from '../helpers/cli.ts';

// Issue 12: `kansui sensor add --site river` registers a river gauge (stored, and read back after a
// restart of the registry); without it a sensor is a road sensor; an unknown site is refused; a river gauge
// needs its station's levels (no road defaults), with 水防団待機水位 and 計画高水位 where set.
describe('kansui sensor add --site', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kansui-cli-site-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('river and road, persisted; --site lake refused; a river without levels refused; --standby and --plan-high-water', async () => {
    await addSensorViaCli(dataDir, ['--id', 'funato', '--name', '紀の川 船戸', '--lat', '34.27', '--lon', '135.36', '--site', 'river', '--caution', '250', '--warning', '330', '--danger', '380']);
    await addSensorViaCli(dataDir, ['--id', 'uchita', '--name', '打田', '--lat', '34.27', '--lon', '135.39']);
    const bad = await runKansuiCli(['sensor', 'add', '--id', 'lake-1', '--name', 'x', '--lat', '34', '--lon', '135', '--site', 'lake'], dataDir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/site/);
    // A river gauge has no default levels: the road's 10/20/30 cm are refused for a stage, naming the thresholds.
    const bare = await runKansuiCli(['sensor', 'add', '--id', 'bare-river', '--name', 'x', '--lat', '34', '--lon', '135', '--site', 'river'], dataDir);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/thresholds: a river gauge needs/);
    // 水防団待機水位 and 計画高水位 where set; refused on a road sensor.
    await addSensorViaCli(dataDir, ['--id', 'takefusa', '--name', '紀の川 竹房', '--lat', '34.28', '--lon', '135.4', '--site', 'river', '--standby', '200', '--caution', '250', '--warning', '330', '--danger', '380', '--plan-high-water', '860']);
    const roadHwl = await runKansuiCli(['sensor', 'add', '--id', 'road-hwl', '--name', 'x', '--lat', '34', '--lon', '135', '--caution', '10', '--warning', '20', '--danger', '30', '--plan-high-water', '50'], dataDir);
    expect(roadHwl.code).not.toBe(0);
    expect(roadHwl.stderr).toMatch(/only a river gauge/);
    const db = openMetadataDatabase(dataDir);
    try {
      const registry = createSqliteSensorRegistry(db);
      expect(registry.get('funato')).toMatchObject({ site: 'river', thresholds: { caution: 250, warning: 330, danger: 380 } });
      expect(registry.get('funato')?.thresholds).not.toHaveProperty('planHighWater');
      expect(registry.get('takefusa')?.thresholds).toEqual({ standby: 200, caution: 250, warning: 330, danger: 380, planHighWater: 860 });
      expect(registry.get('bare-river')).toBeUndefined();
      expect(registry.get('road-hwl')).toBeUndefined();
      expect(registry.get('uchita')?.site ?? 'road').toBe('road');
      expect(registry.get('lake-1')).toBeUndefined();
    } finally {
      db.close();
    }
  });
});
