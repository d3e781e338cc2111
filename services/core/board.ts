import type { Alert } from './alerts/alert.ts';
import { labelLevel, type AlertSettings } from './alerts/policy.ts';
import type { Closure } from './closure.ts';
import type { Reading } from './reading.ts';
import type { Sensor } from './sensor.ts';
import { SEVERITY, type Status } from './status.ts';
import { STATUS_WORDS } from './words.ts';

/** What the situation board knows about one sensor (issue 13). */
export interface BoardInput {
  sensor: Sensor;
  reading: Reading | undefined;
  status: Status;
  /** Active alerts of the sensor (flood, offline, low battery). */
  alerts: readonly Alert[];
  settings: AlertSettings;
  closure: Closure | undefined;
  /** Highest reading of the current episode, when there is one. */
  peak: { levelCm: number; observedAt: number } | undefined;
}

const ALERT_RANK: Record<Alert['severity'], number> = { caution: SEVERITY.caution, warning: SEVERITY.warning, danger: SEVERITY.danger };

/** How bad a sensor is now: the worse of its status and its alerts (an offline sensor ranks with its `offline` severity). */
export function rankBoardEntry(e: Pick<BoardInput, 'status' | 'alerts'>): number {
  let r = SEVERITY[e.status];
  for (const a of e.alerts) r = Math.max(r, a.kind === 'offline' ? SEVERITY.offline : ALERT_RANK[a.severity]);
  return r;
}

/** Whether a sensor belongs on the board: an active alert, a status at 注意 or above, or a road closure. */
export function onBoard(e: Pick<BoardInput, 'status' | 'alerts' | 'closure'>): boolean {
  return e.alerts.length > 0 || e.status === 'caution' || e.status === 'warning' || e.status === 'danger' || e.closure !== undefined;
}

/**
 * The board's rows, worst first: by rank; then whoever still needs someone's
 * attention (an alert nobody acknowledged) before the rest; then deeper
 * water first; then by name, so the order is stable between refreshes.
 */
export function orderBoard<T extends BoardInput>(entries: readonly T[]): T[] {
  const waiting = (e: BoardInput) => (e.alerts.some((a) => a.state === 'raised') ? 1 : 0);
  return entries
    .filter(onBoard)
    .map((e) => ({ e, rank: rankBoardEntry(e) }))
    .sort((a, b) => b.rank - a.rank || waiting(b.e) - waiting(a.e) || (b.e.reading?.levelCm ?? -Infinity) - (a.e.reading?.levelCm ?? -Infinity) || a.e.sensor.name.localeCompare(b.e.sensor.name, 'ja'))
    .map((x) => x.e);
}

/** Road or river, from the sensor's preset. */
export function siteOf(settings: AlertSettings): 'road' | 'river' {
  return settings.preset === 'river_channel' ? 'river' : 'road';
}

/** Name of a status in the sensor's own words (a river's 氾濫危険水位, a road's 危険). */
export function statusName(status: Status, settings: AlertSettings): { ja: string; en: string } {
  if (status === 'normal' || status === 'offline') return STATUS_WORDS[status];
  return labelLevel(status, settings);
}
