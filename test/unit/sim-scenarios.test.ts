import { describe, expect, it } from 'vitest';
import {
  addNoise,
  createRng,
  depthToDistanceMm,
  flashHydrograph,
  levelAt,
  nrcsHydrograph,
  scenarioEndS,
} from '../../firmware-sim/scenarios.ts';
import { BAD_PAYLOAD_KINDS, parseFault, shapePayload, isDisconnected, type Sample } from '../../firmware-sim/faults.ts';
import { parseReading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';

const site = { peakRiseCm: 45, timeToPeakS: 3600 };

describe('scenario hydrographs', () => {
  it('dry stays at the base level', () => {
    for (const t of [0, 100, 3600, 1e6]) expect(levelAt('dry', t, { baseCm: 12 })).toBe(12);
    expect(scenarioEndS('dry')).toBe(0);
  });

  it('heavy-rain follows the NRCS gamma hydrograph: 0 at the start, the full rise at tp, receding after', () => {
    expect(levelAt('heavy-rain', 0, site)).toBe(0);
    expect(levelAt('heavy-rain', 3600, site)).toBeCloseTo(45, 10);
    expect(nrcsHydrograph(1, 1)).toBe(1);
    // The peak is the maximum: sample densely around it.
    let max = 0;
    let argMax = 0;
    for (let t = 0; t <= 20_000; t += 10) {
      const l = levelAt('heavy-rain', t, site);
      if (l > max) [max, argMax] = [l, t];
    }
    expect(argMax).toBe(3600);
    // Skewed: the recession is slower than the rise (half the peak later after tp than before it).
    const half = (from: number, step: number) => {
      let t = from;
      while (levelAt('heavy-rain', t, site) > 22.5) t += step;
      return Math.abs(t - 3600);
    };
    expect(half(3600, 10)).toBeGreaterThan(half(3600, -10));
  });

  it('rises monotonically to the peak and falls monotonically after it', () => {
    for (const name of ['heavy-rain', 'flash-flood'] as const) {
      let prev = -1;
      for (let t = 0; t <= 3600; t += 30) {
        const l = levelAt(name, t, site);
        expect(l).toBeGreaterThanOrEqual(prev);
        prev = l;
      }
      for (let t = 3630; t <= 20_000; t += 30) {
        const l = levelAt(name, t, site);
        expect(l).toBeLessThanOrEqual(prev);
        prev = l;
      }
    }
  });

  it('is back within 2 % of the rise by scenarioEndS, and the lag shifts everything', () => {
    for (const name of ['heavy-rain', 'flash-flood'] as const) {
      const end = scenarioEndS(name, site);
      expect(levelAt(name, end, site)).toBeLessThan(0.02 * 45);
      expect(levelAt(name, end - 0.2 * 3600, site)).toBeGreaterThan(0.02 * 45);
      expect(levelAt(name, 1000 + 3600, { ...site, lagS: 1000 })).toBeCloseTo(45, 10);
      expect(scenarioEndS(name, { ...site, lagS: 1000 })).toBeCloseTo(end + 1000, 10);
    }
  });

  it('flash-flood rises much faster than it recedes', () => {
    expect(flashHydrograph(0, 600)).toBe(0);
    expect(flashHydrograph(600, 600)).toBe(1);
    expect(flashHydrograph(300, 600)).toBeCloseTo(0.5, 10);
    expect(flashHydrograph(600 + 900, 600)).toBeCloseTo(Math.exp(-1), 10); // k = 1.5 tp
  });

  it('adds base flow for river gauges and never goes negative', () => {
    expect(levelAt('heavy-rain', 3600, { baseCm: 80, peakRiseCm: 150, timeToPeakS: 3600 })).toBeCloseTo(230, 10);
    const rng = createRng(1);
    for (let i = 0; i < 1000; i++) expect(addNoise(0, rng)).toBeGreaterThanOrEqual(0);
  });

  it('rejects nonsense site parameters', () => {
    expect(() => levelAt('heavy-rain', 10, { timeToPeakS: 0 })).toThrow();
    expect(() => levelAt('heavy-rain', 10, { peakRiseCm: -1 })).toThrow();
  });

  it('is reproducible from the seed, with noise within ±0.5 cm rounded to 0.1 cm', () => {
    const a = createRng(42);
    const b = createRng(42);
    for (let i = 0; i < 100; i++) {
      const x = addNoise(20, a);
      expect(x).toBe(addNoise(20, b));
      expect(Math.abs(x - 20)).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Math.round(x * 10) / 10).toBe(x);
    }
  });

  it('converts depth to the distance a mounted sensor measures', () => {
    expect(depthToDistanceMm(25, 3000)).toBe(2750);
    expect(depthToDistanceMm(400, 3000)).toBe(0);
  });
});

describe('fault injection', () => {
  const NOW = Date.parse('2026-07-01T12:00:00+09:00');
  const level = createSensor({ id: 's1', name: 'underpass', lat: 34.27, lon: 135.4 }, NOW);
  const dist = createSensor({ id: 'd1', name: 'dist', lat: 34.27, lon: 135.4, mountHeightMm: 3000, minRangeMm: 250 }, NOW);
  const sample = (over: Partial<Sample> = {}): Sample => ({
    sensorId: 's1', kind: 'level', levelCm: 12.3, tsMs: NOW, seq: 1, batteryV: 3.6, rssiDbm: -90, ...over,
  });
  const clock = (elapsedS: number, count = 0, previousS = elapsedS - 1) => ({ elapsedS, previousS, count });
  const parse = (payload: string, sensor = level) => parseReading(Buffer.from(payload), sensor, NOW);

  it('parses specs and explains bad ones', () => {
    expect(parseFault('silence:at=30,for=60')).toEqual({ kind: 'silence', at: 30, for: 60 });
    expect(parseFault('spike')).toEqual({ kind: 'spike', at: 0, cm: 150 });
    expect(parseFault('clock-skew:s=-20,sensor=a1')).toEqual({ kind: 'clock-skew', s: -20, sensor: 'a1' });
    expect(() => parseFault('meteor')).toThrow(/one of silence/);
    expect(() => parseFault('silence:at')).toThrow(/key=value/);
    expect(() => parseFault('bad-payload:every=0')).toThrow(/every/);
    expect(() => parseFault('silence:color=red')).toThrow();
  });

  it('a clean sample becomes a payload the service accepts, for level and distance sensors', () => {
    const l = shapePayload(sample(), [], clock(0));
    expect(parse(l.payloads[0]!)).toMatchObject({ ok: true, reading: { levelCm: 12.3, seq: 1, batteryV: 3.6, rssiDbm: -90, observedAt: NOW } });
    const d = shapePayload(sample({ sensorId: 'd1', kind: 'distance', mountHeightMm: 3000 }), [], clock(0));
    expect(JSON.parse(d.payloads[0]!)).toMatchObject({ distance_mm: 2877 });
    expect(parse(d.payloads[0]!, dist)).toMatchObject({ ok: true, reading: { levelCm: 12.3 } });
  });

  it('silence publishes nothing inside its window only', () => {
    const f = [parseFault('silence:at=10,for=5')];
    expect(shapePayload(sample(), f, clock(9)).payloads).toHaveLength(1);
    expect(shapePayload(sample(), f, clock(10)).payloads).toHaveLength(0);
    expect(shapePayload(sample(), f, clock(15)).payloads).toHaveLength(1);
    expect(shapePayload(sample(), [parseFault('silence:at=1')], clock(1e6)).payloads).toHaveLength(0);
  });

  it('disconnect windows are reported separately (the simulator drops the connection)', () => {
    const f = [parseFault('disconnect:at=2,for=3,sensor=s1')];
    expect(isDisconnected(f, 's1', 1)).toBe(false);
    expect(isDisconnected(f, 's1', 3)).toBe(true);
    expect(isDisconnected(f, 's2', 3)).toBe(false);
    expect(isDisconnected(f, 's1', 5)).toBe(false);
  });

  it('a spike hits exactly one sample', () => {
    const f = [parseFault('spike:at=10,cm=120')];
    const levels = [8, 9.5, 11, 12.5].map((t) => JSON.parse(shapePayload(sample(), f, clock(t, 0, t - 1.5)).payloads[0]!).level_cm);
    expect(levels).toEqual([12.3, 12.3, 120, 12.3]);
  });

  it('bad-payload cycles through kinds the service refuses, each for its own reason', () => {
    const f = [parseFault('bad-payload:every=2')];
    const reasons: string[] = [];
    for (let count = 0; count < 2 * BAD_PAYLOAD_KINDS.length * 2; count++) {
      const out = shapePayload(sample(), f, clock(count, count));
      const r = parse(out.payloads[0]!);
      if (count % 2 === 0) expect(r.ok).toBe(true);
      else if (!r.ok) reasons.push(r.reason);
      else throw new Error(`bad payload accepted: ${out.payloads[0]}`);
    }
    expect(new Set(reasons)).toEqual(new Set(BAD_PAYLOAD_KINDS));
  });

  it('clock skew, low battery, duplicates and sensor targeting', () => {
    const skew = shapePayload(sample(), [parseFault('clock-skew:s=600')], clock(0));
    expect(parse(skew.payloads[0]!)).toMatchObject({ ok: false, reason: 'ts_in_future' });
    const batt = shapePayload(sample(), [parseFault('low-battery:v=3.05')], clock(0));
    expect(JSON.parse(batt.payloads[0]!).battery_v).toBe(3.05);
    const dup = shapePayload(sample(), [parseFault('duplicate:every=1')], clock(0));
    expect(dup.payloads).toHaveLength(2);
    expect(dup.payloads[0]).toBe(dup.payloads[1]);
    const other = shapePayload(sample(), [parseFault('silence:sensor=zz')], clock(0));
    expect(other.payloads).toHaveLength(1);
  });
});
