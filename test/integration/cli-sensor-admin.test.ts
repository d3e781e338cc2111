import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteAudit } from '../../services/storage/sqlite-audit.ts';
import { createSqliteCalibrations } from '../../services/storage/sqlite-calibrations.ts';
import { registerSimSensors } from '../../firmware-sim/credentials.ts';
import { addSensorViaCli, runKansuiCli } from '../helpers/cli.ts';

/**
 * Issue 16: the CLI goes through the console's application functions, so
 * `kansui sensor add` writes calibration version 1 and an audit entry, and
 * `kansui sensor rotate` an audit entry, as the console does.
 */
describe('kansui sensor add / rotate: the same application functions as the console', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kansui-cli-admin-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('writes the audit entry and the calibration version; rotating is audited too; no secret in the log', async () => {
    const added = await addSensorViaCli(dataDir, ['--id', 'cli-dist-01', '--name', '内田橋', '--lat', '34.27', '--lon', '135.40', '--mount-height-mm', '2000', '--min-range-mm', '250']);
    const rotated = await runKansuiCli(['sensor', 'rotate', '--id', 'cli-dist-01'], dataDir);
    expect(rotated.code, rotated.stderr).toBe(0);

    const db = openMetadataDatabase(dataDir);
    try {
      const entries = createSqliteAudit(db).list({ limit: 10, target: 'cli-dist-01' });
      expect(entries.map((e) => e.action)).toEqual(['sensor.credentials.rotate', 'sensor.create']);
      expect(entries[1]).toMatchObject({ actor: 'cli', actorUserId: null, targetType: 'sensor', address: null, after: { id: 'cli-dist-01', mountHeightMm: 2000, minRangeMm: 250 } });
      const text = JSON.stringify(entries);
      expect(text).not.toContain(added.mqtt.password);
      expect(text).not.toContain(JSON.parse(rotated.stdout).mqtt.password);
      expect(createSqliteCalibrations(db).list('cli-dist-01')).toEqual([
        { version: 1, mountHeightMm: 2000, minRangeMm: 250, source: 'registered', distanceMm: null, validFrom: expect.any(Number), setBy: 'cli' },
      ]);
    } finally {
      db.close();
    }
  });

  it('a sensor without a calibration gets no calibration version, but its audit entry', async () => {
    await addSensorViaCli(dataDir, ['--id', 'cli-level-01', '--name', 'x', '--lat', '34', '--lon', '135']);
    const db = openMetadataDatabase(dataDir);
    try {
      expect(createSqliteAudit(db).list({ limit: 10, target: 'cli-level-01' }).map((e) => e.action)).toEqual(['sensor.create']);
      expect(createSqliteCalibrations(db).list('cli-level-01')).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('the simulator and the demo register through the same functions: audit entries and calibration version 1', async () => {
    const [line] = await registerSimSensors(dataDir, [{ id: 'sim-dist-01', name: 'sim', lat: 34.27, lon: 135.4, mountHeightMm: 3000, minRangeMm: 250 }]);
    const [again] = await registerSimSensors(dataDir, [{ id: 'sim-dist-01', name: 'sim', lat: 34.27, lon: 135.4 }]);
    expect(again!.mqtt.password).not.toBe(line!.mqtt.password);
    const db = openMetadataDatabase(dataDir);
    try {
      const entries = createSqliteAudit(db).list({ limit: 10, target: 'sim-dist-01' });
      expect(entries.map((e) => e.action)).toEqual(['sensor.credentials.rotate', 'sensor.create']);
      expect(entries[1]).toMatchObject({ actor: 'cli', actorUserId: null });
      expect(JSON.stringify(entries)).not.toContain(line!.mqtt.password);
      expect(createSqliteCalibrations(db).list('sim-dist-01')).toMatchObject([{ version: 1, mountHeightMm: 3000, minRangeMm: 250, source: 'registered', setBy: 'cli' }]);
    } finally {
      db.close();
    }
  });
});
