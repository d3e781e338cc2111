import type { Reading } from '../../core/reading.ts';

/**
 * The documented InfluxDB schema (docs/influxdb.md): measurement
 * `water_level`, tag `sensor_id`, fields `level_cm` (float) and, when the
 * reading has them, `distance_mm`, `battery_v`, `rssi_dbm` (floats) and
 * `seq` (integer); timestamp = the reading's observedAt in ms. The point
 * key is (measurement, sensor_id, time), so a duplicate delivery overwrites
 * the same point with the same values: stored once.
 */
export const MEASUREMENT = 'water_level';

/** Line protocol tag values: escape comma, equals sign, space and backslash. */
function escapeTag(value: string): string {
  return value.replace(/[\\,= ]/g, (c) => `\\${c}`);
}

/**
 * A float field as line protocol reads it. A bare number (no `i` suffix) is
 * a float; JS renders integers without a decimal point, which is still a
 * float to InfluxDB, so the type never flips between points.
 */
function float(value: number): string {
  return String(value);
}

/**
 * One reading as one line of InfluxDB line protocol, precision ms.
 *
 * @example
 * formatLine({ sensorId: 'kinokawa-01', observedAt: 1700000000000, levelCm: 12.5, seq: 7 })
 * // 'water_level,sensor_id=kinokawa-01 level_cm=12.5,seq=7i 1700000000000'
 */
export function formatLine(r: Reading): string {
  let fields = `level_cm=${float(r.levelCm)}`;
  if (r.distanceMm !== undefined) fields += `,distance_mm=${float(r.distanceMm)}`;
  if (r.batteryV !== undefined) fields += `,battery_v=${float(r.batteryV)}`;
  if (r.rssiDbm !== undefined) fields += `,rssi_dbm=${float(r.rssiDbm)}`;
  if (r.seq !== undefined) fields += `,seq=${Math.trunc(r.seq)}i`;
  return `${MEASUREMENT},sensor_id=${escapeTag(r.sensorId)} ${fields} ${Math.trunc(r.observedAt)}`;
}

/** An InfluxQL string literal: single quotes, with `\` and `'` escaped. */
export function quoteString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** An InfluxQL identifier in double quotes (database names with dashes etc.). */
export function quoteIdent(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][] | null;
}

export interface InfluxQueryResponse {
  results?: { statement_id?: number; error?: string; series?: InfluxSeries[] }[];
  error?: string;
}

/** Rows of a series as objects keyed by column name. */
export function seriesRows(series: InfluxSeries): Record<string, unknown>[] {
  return (series.values ?? []).map((row) => Object.fromEntries(series.columns.map((c, i) => [c, row[i]])));
}

/** A row of `SELECT * FROM water_level` (epoch=ms) back into a Reading. */
export function rowToReading(sensorId: string, row: Record<string, unknown>): Reading | undefined {
  const observedAt = row.time;
  const levelCm = row.level_cm;
  if (typeof observedAt !== 'number' || typeof levelCm !== 'number') return undefined;
  const r: Reading = { sensorId, observedAt, levelCm };
  if (typeof row.distance_mm === 'number') r.distanceMm = row.distance_mm;
  if (typeof row.battery_v === 'number') r.batteryV = row.battery_v;
  if (typeof row.rssi_dbm === 'number') r.rssiDbm = row.rssi_dbm;
  if (typeof row.seq === 'number') r.seq = row.seq;
  return r;
}
