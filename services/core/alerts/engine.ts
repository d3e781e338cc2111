import type { Thresholds } from '../sensor.ts';
import { classifyLevel } from '../status.ts';
import { DEFAULT_ALERT_POLICY, FLOOD_LEVELS, maxLevel, rankLevel, type AlertPolicy, type FloodLevel } from './policy.ts';

/** A reading as the engine needs it. */
export interface LevelSample {
  observedAt: number;
  levelCm: number;
  batteryV?: number;
}

/**
 * What the engine remembers about one sensor between readings. Plain data,
 * so it can be logged, tested and rebuilt.
 */
export interface SensorAlertState {
  /** Level held by hysteresis: entered on reaching a threshold, left only after dead band + hold time. */
  level: FloodLevel;
  /** Since when readings have been below the current level's exit line (threshold − dead band). */
  belowSince: number | undefined;
  /** Highest level the readings have stayed at during that time (what the level drops to). */
  dropTo: FloodLevel | undefined;
  /** A rate-of-rise condition is in force. */
  rising: boolean;
  /** Since when the rise has been under the rate (ends `rising` after the hold time). */
  calmSince: number | undefined;
  /** Accepted readings inside the rate-of-rise look-back, oldest first. */
  recent: { observedAt: number; levelCm: number }[];
  /** An implausible jump waiting for the next reading to confirm it. */
  held: LevelSample | undefined;
  /** Newest accepted observation time: older readings do not move the state. */
  lastObservedAt: number | undefined;
  lowBattery: boolean;
}

/**
 * Most entries kept for the rate-of-rise look-back: two 10-min windows in
 * 10-s slots (the fastest contract interval, LIMITS.minIntervalS) is 120.
 * Faster readings share a slot (see applySample), so this is a safety bound.
 */
const MAX_RECENT = 128;

export function createAlertState(level: FloodLevel = 'normal'): SensorAlertState {
  return {
    level,
    belowSince: undefined,
    dropTo: undefined,
    rising: false,
    calmSince: undefined,
    recent: [],
    held: undefined,
    lastObservedAt: undefined,
    lowBattery: false,
  };
}

export type SpikeOutcome = 'held' | 'confirmed' | 'discarded';

export interface Evaluation {
  state: SensorAlertState;
  /** Flood severity now: the hysteresis level, raised to at least `caution` while rising fast. */
  effective: FloodLevel;
  /** Whether this reading was used (false for out-of-order or held ones). */
  applied: boolean;
  spike?: SpikeOutcome;
  /** Rise over the rate-of-rise window as computed at this reading (cm), when known. */
  riseCm?: number;
}

/** The level a reading supports when leaving levels: the highest whose exit line it is not below. */
function exitLevel(levelCm: number, t: Thresholds, deadBandCm: number): FloodLevel {
  if (levelCm >= t.danger - deadBandCm) return 'danger';
  if (levelCm >= t.warning - deadBandCm) return 'warning';
  if (levelCm >= t.caution - deadBandCm) return 'caution';
  return 'normal';
}

/**
 * Largest rise rate seen at `sample`, scaled to cm per window: a reference
 * reading inside the window counts at face value (10 cm in 3 min is "10 cm
 * within 10 min"); one up to two windows back is scaled by elapsed time, so a
 * sensor reporting every 10 min and a bit is still judged.
 */
function riseOver(recent: readonly { observedAt: number; levelCm: number }[], sample: LevelSample, windowMs: number): number | undefined {
  let best: number | undefined;
  for (const r of recent) {
    const dt = sample.observedAt - r.observedAt;
    if (dt <= 0 || dt > 2 * windowMs) continue;
    const rise = ((sample.levelCm - r.levelCm) * windowMs) / Math.max(windowMs, dt);
    if (best === undefined || rise > best) best = rise;
  }
  return best;
}

function applySample(prev: SensorAlertState, sample: LevelSample, t: Thresholds, p: AlertPolicy): { state: SensorAlertState; riseCm: number | undefined } {
  const s: SensorAlertState = { ...prev, recent: prev.recent.slice() };
  const at = sample.observedAt;

  // Hysteresis: up at once, down only after dead band and hold time.
  const reached = classifyLevel(sample.levelCm, t);
  if (rankLevel(reached) > rankLevel(s.level)) {
    s.level = reached;
    s.belowSince = undefined;
    s.dropTo = undefined;
  } else {
    const supported = exitLevel(sample.levelCm, t, p.deadBandCm);
    if (rankLevel(supported) >= rankLevel(s.level)) {
      s.belowSince = undefined;
      s.dropTo = undefined;
    } else {
      if (s.belowSince === undefined) {
        s.belowSince = at;
        s.dropTo = supported;
      } else {
        s.dropTo = maxLevel(s.dropTo ?? 'normal', supported);
      }
      if (at - s.belowSince >= p.holdMs) {
        s.level = s.dropTo ?? supported;
        // Still below the new level's exit line: its own hold starts now.
        const again = rankLevel(supported) < rankLevel(s.level);
        s.belowSince = again ? at : undefined;
        s.dropTo = again ? supported : undefined;
      }
    }
  }

  // Rate of rise, with the same hold before it ends.
  const riseCm = riseOver(s.recent, sample, p.riseWindowMs);
  if (riseCm !== undefined && riseCm >= p.riseCm) {
    s.rising = true;
    s.calmSince = undefined;
  } else if (s.rising) {
    s.calmSince ??= at;
    if (at - s.calmSince >= p.holdMs) {
      s.rising = false;
      s.calmSince = undefined;
    }
  }
  // One look-back entry per slot of a sixtieth of the window (10 s by
  // default, the fastest contract interval): within a slot keep the lowest
  // level, since a rise is measured from the lowest point. A sensor reporting
  // faster than the contract allows then keeps its whole look-back, and its
  // per-reading work stays as small as a contract-rate sensor's.
  const slotMs = p.riseWindowMs / 60;
  const last = s.recent[s.recent.length - 1];
  if (last && at >= last.observedAt && at - last.observedAt < slotMs) {
    if (sample.levelCm < last.levelCm) s.recent[s.recent.length - 1] = { observedAt: last.observedAt, levelCm: sample.levelCm };
  } else {
    s.recent.push({ observedAt: at, levelCm: sample.levelCm });
  }
  const horizon = at - 2 * p.riseWindowMs;
  while (s.recent.length && (s.recent[0] as { observedAt: number }).observedAt < horizon) s.recent.shift();
  if (s.recent.length > MAX_RECENT) s.recent.splice(0, s.recent.length - MAX_RECENT);
  s.lastObservedAt = at;
  return { state: s, riseCm };
}

function updateBattery(s: SensorAlertState, sample: LevelSample, p: AlertPolicy): void {
  if (sample.batteryV === undefined) return;
  // 0.1 V of hysteresis: a cell hovering at the limit under changing load does not flap.
  if (!s.lowBattery && sample.batteryV < p.lowBatteryV) s.lowBattery = true;
  else if (s.lowBattery && sample.batteryV >= p.lowBatteryV + 0.1) s.lowBattery = false;
}

/** Flood severity implied by a state. */
export function effectiveLevel(s: SensorAlertState): FloodLevel {
  return s.rising ? maxLevel(s.level, 'caution') : s.level;
}

/**
 * Feed one reading to a sensor's state. Pure: returns a new state.
 *
 * Spike filter: a reading that jumps `spikeJumpCm` or more above the last
 * accepted one is held. The next reading decides: near the held value
 * (within `spikeJumpCm`) confirms it, and both are applied in order;
 * otherwise the held one is discarded as a glitch. Drops are never held:
 * the hold time already keeps a single low reading from ending an alert.
 *
 * @example
 * let s = createAlertState();
 * ({ state: s } = evaluateReading(s, { observedAt: t, levelCm: 12 }, sensor.thresholds));
 * effectiveLevel(s) // 'caution'
 */
export function evaluateReading(
  prev: SensorAlertState,
  sample: LevelSample,
  thresholds: Thresholds,
  policy: AlertPolicy = DEFAULT_ALERT_POLICY,
): Evaluation {
  if (prev.lastObservedAt !== undefined && sample.observedAt <= prev.lastObservedAt) {
    return { state: prev, effective: effectiveLevel(prev), applied: false };
  }
  if (prev.held && sample.observedAt <= prev.held.observedAt) {
    return { state: prev, effective: effectiveLevel(prev), applied: false };
  }
  let state: SensorAlertState = { ...prev };
  updateBattery(state, sample, policy);
  let spike: SpikeOutcome | undefined;
  let riseCm: number | undefined;

  if (state.held) {
    const held = state.held;
    state.held = undefined;
    if (Math.abs(sample.levelCm - held.levelCm) < policy.spikeJumpCm) {
      spike = 'confirmed';
      state = applySample(state, held, thresholds, policy).state;
    } else {
      spike = 'discarded';
    }
  } else {
    const last = state.recent[state.recent.length - 1];
    if (last && sample.levelCm - last.levelCm >= policy.spikeJumpCm) {
      state.held = { observedAt: sample.observedAt, levelCm: sample.levelCm };
      return { state, effective: effectiveLevel(state), applied: false, spike: 'held' };
    }
  }
  const applied = applySample(state, sample, thresholds, policy);
  state = applied.state;
  riseCm = applied.riseCm;
  return { state, effective: effectiveLevel(state), applied: true, ...(spike && { spike }), ...(riseCm !== undefined && { riseCm }) };
}

export { FLOOD_LEVELS };
