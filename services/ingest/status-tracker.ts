import type { Reading } from '../core/reading.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { computeStatus, type Status } from '../core/status.ts';

export interface StatusChange {
  sensorId: string;
  status: Status;
  previous: Status | undefined;
}

/**
 * Remembers each sensor's last published status and reports changes: on a
 * new reading, and on a periodic sweep that notices silence (`offline`,
 * after 3 × the reporting interval), which no reading would ever announce.
 */
export function createStatusTracker(deps: {
  registry: SensorRegistry;
  latest: ReadonlyMap<string, Reading>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const last = new Map<string, Status>();

  function check(sensorId: string): StatusChange | undefined {
    const sensor = deps.registry.get(sensorId);
    if (!sensor) return undefined;
    const status = computeStatus(sensor, deps.latest.get(sensorId), now());
    const previous = last.get(sensorId);
    if (status === previous) return undefined;
    last.set(sensorId, status);
    return { sensorId, status, previous };
  }

  return {
    check,
    /** The status last reported for a sensor. */
    current: (sensorId: string): Status | undefined => last.get(sensorId),
    /** Re-evaluate every sensor; returns the ones whose status changed. */
    sweep(): StatusChange[] {
      const changes: StatusChange[] = [];
      for (const s of deps.registry.list()) {
        const c = check(s.id);
        if (c) changes.push(c);
      }
      return changes;
    },
  };
}

/**
 * Every `intervalMs`: reload the registry if another process changed it, and
 * sweep the statuses, handing each change to `onChange` (silence is noticed
 * only here: no reading announces `offline`).
 */
export function startStatusSweep(deps: {
  registry: SensorRegistry;
  tracker: Pick<ReturnType<typeof createStatusTracker>, 'sweep'>;
  intervalMs: number;
  onChange: (change: StatusChange) => void;
}): { stop(): void } {
  const timer = setInterval(() => {
    deps.registry.refresh();
    for (const c of deps.tracker.sweep()) deps.onChange(c);
  }, deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
