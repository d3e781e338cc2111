import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../services/core/audit.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { SensorPatchSchema, applySensorPatch, calibrationChanged, zeroCalibration } from '../../services/core/sensor-patch.ts';
import { HashBusyError, hashPassword, verifyPassword, withHashSlot } from '../../services/auth/passwords.ts';
import { tileSource } from '../../services/api/http-policy.ts';
import { loadConfig } from '../../services/config.ts';

describe('sensor edits and "set zero now"', () => {
  const base = createSensor({ id: 's1', name: 'センサ', lat: 34, lon: 135, kind: 'distance', mountHeightMm: 1500, minRangeMm: 200 }, 1000);

  it('applies a patch, clears optional fields with null, keeps id and createdAt, re-checks registration rules', () => {
    const moved = applySensorPatch({ ...base, nameEn: 'x' }, SensorPatchSchema.parse({ lat: 34.5, nameEn: null, state: 'maintenance' }), 2000);
    expect(moved).toMatchObject({ id: 's1', lat: 34.5, state: 'maintenance', createdAt: 1000, updatedAt: 2000 });
    expect(moved.nameEn).toBeUndefined();
    expect(() => applySensorPatch(base, SensorPatchSchema.parse({ minRangeMm: 1600 }), 2000)).toThrow(/minRangeMm/);
    expect(SensorPatchSchema.safeParse({}).success).toBe(false);
    expect(SensorPatchSchema.safeParse({ id: 'other' }).success).toBe(false);
    expect(calibrationChanged(base, applySensorPatch(base, SensorPatchSchema.parse({ mountHeightMm: 1400 }), 2000))).toBe(true);
    expect(calibrationChanged(base, applySensorPatch(base, SensorPatchSchema.parse({ name: 'n' }), 2000))).toBe(false);
  });

  it('zeroes on a fresh distance reading only, outside the blind zone, for distance sensors', () => {
    const now = 10_000_000;
    expect(zeroCalibration(base, { distanceMm: 1432.4, observedAt: now - 1000 }, now)).toEqual({ ok: true, mountHeightMm: 1432 });
    expect(zeroCalibration(base, undefined, now).ok).toBe(false);
    // Older than 3 × interval (600 s): stale.
    expect(zeroCalibration(base, { distanceMm: 1400, observedAt: now - 1_800_001 }, now)).toMatchObject({ ok: false, message: /older than 3/ });
    expect(zeroCalibration(base, { distanceMm: 150, observedAt: now }, now)).toMatchObject({ ok: false, message: /minimum range/ });
    const level = createSensor({ id: 'l1', name: 'x', lat: 34, lon: 135 }, 0);
    expect(zeroCalibration(level, { distanceMm: 1400, observedAt: now }, now).ok).toBe(false);
  });
});

describe('password hashing (scrypt, OWASP parameters)', () => {
  it('round-trips, stores its parameters, rejects wrong passwords and a missing hash', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('anything', 'garbage')).toBe(false);
  });
});

describe('hash slots (scrypt must not take the whole libuv pool)', () => {
  it('runs at most 2 at once, queues up to 64 more, refuses beyond that, and hands slots over in order', async () => {
    let active = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const job = () =>
      withHashSlot(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((r) => release.push(r));
        active--;
      });
    const jobs = Array.from({ length: 66 }, job);
    await expect(job()).rejects.toBeInstanceOf(HashBusyError);
    while (release.length || active) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    await Promise.all(jobs);
    expect(peak).toBe(2);
  });
});

describe('small helpers', () => {
  it('reads TRUST_PROXY strictly and the Mosquitto paths as optional', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(true);
    expect(() => loadConfig({ TRUST_PROXY: 'yes' })).toThrow(/TRUST_PROXY/);
    expect(loadConfig({ MOSQUITTO_PASSWORD_FILE: '' }).MOSQUITTO_PASSWORD_FILE).toBeUndefined();
  });

  it('derives the CSP image source from MAP_TILE_URL templates', () => {
    expect(tileSource('https://tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe('https://tile.openstreetmap.org');
    expect(tileSource('https://{s}.tile.example.jp/{z}/{x}/{y}.png')).toBe('https://*.tile.example.jp');
    expect(tileSource('/tiles/{z}/{x}/{y}.png')).toBeUndefined();
  });

  it('never lets a secret into an audit entry', () => {
    expect(redactSecrets({ a: 1, password: 'p', nested: [{ token: 't', passwordHash: 'h', ok: true }] })).toEqual({ a: 1, nested: [{ ok: true }] });
  });
});
