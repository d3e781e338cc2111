import { z } from 'zod';

/**
 * Water level as a function of time for simulated sensors. Pure: no clock,
 * no randomness except through the seeded generator passed in, so unit tests
 * and the demo get the same curve every run.
 *
 * Times here are SCENARIO seconds since the storm began; the simulator maps
 * wall-clock time onto them with its time-scale factor (e.g. ×60: one real
 * second is one scenario minute).
 */

export const SCENARIOS = ['dry', 'heavy-rain', 'flash-flood'] as const;
export const ScenarioName = z.enum(SCENARIOS);
export type ScenarioName = z.infer<typeof ScenarioName>;

/** How one sensor's site responds to the storm. */
export const SiteResponseSchema = z.object({
  /** Level with no storm (0 on a road; a river channel gauge has a base flow). */
  baseCm: z.number().min(0).default(0),
  /** Rise above base at the peak. */
  peakRiseCm: z.number().min(0).default(45),
  /** Scenario seconds from the start of the storm to this site's peak. */
  timeToPeakS: z.number().positive().default(3600),
  /** Scenario seconds before the site starts responding (travel time down the catchment). */
  lagS: z.number().min(0).default(0),
});
export type SiteResponse = z.infer<typeof SiteResponseSchema>;
export type SiteResponseInput = z.input<typeof SiteResponseSchema>;

/**
 * Shape factor of the gamma-function form of the NRCS (SCS) dimensionless
 * unit hydrograph: q/qp = (t/tp)^m · exp(m·(1 − t/tp)), with m = 3.7 for the
 * standard peak rate factor 484 (USDA NRCS, National Engineering Handbook
 * Part 630 Hydrology, Chapter 16 "Hydrographs", 2007). Its rising limb takes
 * tp and its recession about 3–4 tp, the familiar skewed storm hydrograph.
 */
export const NRCS_GAMMA_M = 3.7;

/**
 * Flash flood: the rising limb is much steeper than the recession. Rise over
 * `timeToPeakS` with a smoothstep, then drain as a linear reservoir,
 * Q = Q0·exp(−t/k) (the classical exponential recession curve, Maillet 1905),
 * with k = FLASH_RECESSION_RATIO × time to peak.
 */
export const FLASH_RECESSION_RATIO = 1.5;

/** Dimensionless NRCS gamma hydrograph: 0 at t=0, 1 at t=tp, → 0 after. */
export function nrcsHydrograph(t: number, tp: number, m = NRCS_GAMMA_M): number {
  if (!(t > 0) || !(tp > 0)) return 0;
  const r = t / tp;
  return Math.pow(r, m) * Math.exp(m * (1 - r));
}

/** Dimensionless flash-flood hydrograph: smoothstep rise to 1 at tp, exponential recession. */
export function flashHydrograph(t: number, tp: number, k = FLASH_RECESSION_RATIO * tp): number {
  if (!(t > 0) || !(tp > 0)) return 0;
  if (t <= tp) {
    const x = t / tp;
    return x * x * (3 - 2 * x);
  }
  return Math.exp(-(t - tp) / k);
}

/**
 * Level (cm) at scenario time `tS` for a site. Never negative.
 *
 * @example
 * levelAt('heavy-rain', 3600, { peakRiseCm: 45, timeToPeakS: 3600 }) // 45: the peak
 */
export function levelAt(scenario: ScenarioName, tS: number, site: SiteResponseInput = {}): number {
  const s = SiteResponseSchema.parse(site);
  const t = tS - s.lagS;
  let shape: number;
  switch (scenario) {
    case 'dry':
      shape = 0;
      break;
    case 'heavy-rain':
      shape = nrcsHydrograph(t, s.timeToPeakS);
      break;
    case 'flash-flood':
      shape = flashHydrograph(t, s.timeToPeakS);
      break;
  }
  return Math.max(0, s.baseCm + s.peakRiseCm * shape);
}

/**
 * Scenario seconds after which the site is back within 2 % of its peak rise
 * above base (so a demo or test knows when the storm is over).
 */
export function scenarioEndS(scenario: ScenarioName, site: SiteResponseInput = {}): number {
  const s = SiteResponseSchema.parse(site);
  if (scenario === 'dry') return 0;
  // heavy-rain: r^m·e^{m(1−r)} < 0.02 from r ≈ 3.3 (m = 3.7); flash: e^{−x/k} < 0.02 from x = 3.92k.
  if (scenario === 'heavy-rain') return s.lagS + 3.3 * s.timeToPeakS;
  return s.lagS + s.timeToPeakS + 3.92 * FLASH_RECESSION_RATIO * s.timeToPeakS;
}

/**
 * A small seeded PRNG (mulberry32, public domain, Tommy Ettinger) so noise
 * and fault choices are reproducible from `--seed`.
 */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Measurement noise: a uniform ±`amplitudeCm` (default ±0.5 cm, a jitter of
 * the order road ultrasonic/radar level sensors show; chosen for realistic
 * looking charts, not taken from one datasheet), never below zero, rounded to
 * the 0.1 cm a sensor reports.
 */
export function addNoise(levelCm: number, rng: () => number, amplitudeCm = 0.5): number {
  return Math.max(0, Math.round((levelCm + (rng() * 2 - 1) * amplitudeCm) * 10) / 10);
}

/** Distance a downward-looking sensor mounted at `mountHeightMm` measures for a depth (inverse of calibration). */
export function depthToDistanceMm(levelCm: number, mountHeightMm: number): number {
  return Math.max(0, Math.round(mountHeightMm - levelCm * 10));
}
