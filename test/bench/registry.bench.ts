import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSensorsSnapshot } from '../../services/api/sensors-snapshot.ts';
import type { Alert } from '../../services/core/alerts/alert.ts';
import type { Reading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteAlerts, openAlertsConnection } from '../../services/storage/sqlite-alerts.ts';
import { createSqliteSensorRegistry } from '../../services/storage/sqlite-sensor-registry.ts';
import type { BenchModule, BenchRow } from './types.ts';

/**
 * `npm run bench -- registry` (issue 16): what alert commits during a storm
 * cost the 5-s sweep. The sweep calls `registry.refresh()` and the
 * `/api/sensors` snapshot is rebuilt when a sensor object changed. The
 * registry used to reload on any commit to kansui.db (`PRAGMA
 * data_version`), alerts' included; it now watches its own counter.
 */
const SENSORS = 10_000;
/** Alerts raised, then each updated once, during the storm (one commit each). */
const ALERTS = 300;
/** A sweep after every this many alert commits (at 300 alerts a minute, 5 s ≈ 25 commits). */
const COMMITS_PER_SWEEP = 25;

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

export const bench: BenchModule = {
  key: 'registry',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'kansui-bench-registry-'));
    const db = openMetadataDatabase(dir);
    const alertsDb = openAlertsConnection(db);
    const cliDb = openMetadataDatabase(dir);
    try {
      const registry = createSqliteSensorRegistry(db);
      const t = Date.now();
      const latest = new Map<string, Reading>();
      db.transaction(() => {
        for (let i = 0; i < SENSORS; i++) {
          const s = createSensor({ id: `r-${String(i).padStart(5, '0')}`, name: `センサー ${i}`, lat: 34 + i / 1e5, lon: 135 + i / 1e5 }, t);
          registry.create(s, { passwordHash: 'sha256:x' });
          latest.set(s.id, { sensorId: s.id, observedAt: t, levelCm: i % 40 });
        }
      })();
      const snapshot = createSensorsSnapshot({ registry, latest, timeZone: 'Asia/Tokyo', now: () => t + 1000 });
      snapshot.get();
      const dataVersion = db.prepare('PRAGMA data_version').pluck();
      let seenDataVersion = dataVersion.get();

      const alerts = createSqliteAlerts(alertsDb);
      const sweeps: number[] = [];
      let reloads = 0;
      let oldReloads = 0;
      let commits = 0;
      const sweep = () => {
        const v = dataVersion.get();
        if (v !== seenDataVersion) (oldReloads++, (seenDataVersion = v));
        const t0 = performance.now();
        if (registry.refresh()) reloads++;
        snapshot.get();
        sweeps.push(performance.now() - t0);
      };
      const commit = (write: () => void) => {
        write();
        if (++commits % COMMITS_PER_SWEEP === 0) sweep();
      };
      const raised: Alert[] = [];
      for (let i = 0; i < ALERTS; i++) {
        const a: Alert = {
          id: `al_${i}`, sensorId: `r-${String(i).padStart(5, '0')}`, kind: 'flood', severity: 'warning', peakSeverity: 'warning', cause: 'level', state: 'raised', rising: true,
          levelCm: 22, observedAt: t + i, batteryV: undefined, raisedAt: t + i, updatedAt: t + i,
          acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined,
        };
        raised.push(a);
        commit(() => alerts.insert(a, { type: 'raised', at: t + i, severity: 'warning', levelCm: 22 }));
      }
      for (const a of raised) commit(() => alerts.update({ ...a, severity: 'danger', peakSeverity: 'danger', updatedAt: a.updatedAt + 60_000 }, { type: 'escalated', at: a.updatedAt + 60_000, severity: 'danger', levelCm: 31 }));
      alerts.close();

      // What each of those reloads cost: every sensor parsed again and every feature re-serialized.
      const full: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const fresh = createSqliteSensorRegistry(db);
        createSensorsSnapshot({ registry: fresh, latest, timeZone: 'Asia/Tokyo', now: () => t + 1000 }).get();
        full.push(performance.now() - t0);
      }
      // A real change by another process (the CLI edits one sensor): reload, one feature re-serialized.
      const cli = createSqliteSensorRegistry(cliDb);
      const edits: number[] = [];
      for (let i = 0; i < 5; i++) {
        cli.update(`r-0000${i}`, { name: `edited ${i}` });
        const t0 = performance.now();
        registry.refresh();
        snapshot.get();
        edits.push(performance.now() - t0);
      }
      for (const a of [sweeps, full, edits]) a.sort((x, y) => x - y);
      const rows: BenchRow[] = [
        { metric: `sweeps during the storm that reloaded the registry (${ALERTS * 2} alert commits, a sweep every ${COMMITS_PER_SWEEP})`, value: `${reloads} of ${sweeps.length}`, target: '0', pass: reloads === 0 },
        { metric: 'sweeps the old check (PRAGMA data_version) would have reloaded', value: `${oldReloads} of ${sweeps.length}` },
        { metric: `sweep: refresh() + /api/sensors snapshot, ${SENSORS} sensors, p50 / max`, value: `${ms(quantile(sweeps, 0.5))} / ${ms(sweeps[sweeps.length - 1] ?? NaN)}` },
        { metric: '… what each reload cost before (every sensor parsed, every feature serialized), p50', value: ms(quantile(full, 0.5)) },
        { metric: 'one sensor edited by the CLI: reload + snapshot (unchanged sensors keep their objects), p50', value: ms(quantile(edits, 0.5)) },
      ];
      return {
        key: 'registry',
        title: 'Sensor registry during an alert storm (issue 16)',
        method: `In-process, no broker: ${SENSORS} sensors in DATA_DIR/kansui.db with a latest reading each; ${ALERTS} alerts raised and then escalated on the alerts connection (one commit each, as createAlerting does), with the service's sweep (registry.refresh() and the /api/sensors snapshot) after every ${COMMITS_PER_SWEEP} commits.`,
        rows,
        notes: [`Load average at the end: ${loadavg()[0]!.toFixed(1)} (other work on the machine counts in the times).`],
      };
    } finally {
      cliDb.close();
      alertsDb.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
