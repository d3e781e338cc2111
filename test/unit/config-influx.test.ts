import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { formatLine } from '../../services/storage/influx/line-protocol.ts';

describe('InfluxDB configuration', () => {
  it('STORE=influx without INFLUX_URL fails at start and names the variable', () => {
    expect(() => loadConfig({ STORE: 'influx' })).toThrow(ConfigError);
    expect(() => loadConfig({ STORE: 'influx' })).toThrow(/INFLUX_URL: required when STORE=influx/);
  });

  it('defaults the database to kansui and the tuning to 2 s / 5,000 lines', () => {
    const c = loadConfig({ STORE: 'influx', INFLUX_URL: 'http://influx:8086', INFLUX_TOKEN: 't' });
    expect(c).toMatchObject({ INFLUX_DATABASE: 'kansui', INFLUX_TOKEN: 't', INFLUX_TIMEOUT_MS: 2000, INFLUX_BATCH_LINES: 5000 });
  });

  it('refuses a URL that is not http(s), a token together with a user, and a user without a password', () => {
    expect(() => loadConfig({ STORE: 'influx', INFLUX_URL: 'influx:8086' })).toThrow(/INFLUX_URL/);
    expect(() => loadConfig({ STORE: 'influx', INFLUX_URL: 'http://i:8086', INFLUX_TOKEN: 't', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: 'p' })).toThrow(
      /INFLUX_TOKEN: set INFLUX_TOKEN or INFLUX_USERNAME\/INFLUX_PASSWORD, not both/,
    );
    expect(() => loadConfig({ STORE: 'influx', INFLUX_URL: 'http://i:8086', INFLUX_USERNAME: 'u' })).toThrow(/INFLUX_PASSWORD/);
  });

  it('the SQLite default needs none of it', () => {
    expect(loadConfig({}).STORE).toBe('sqlite');
  });
});

describe('line protocol of the documented schema', () => {
  it('writes level_cm as a float, seq as an integer, and escapes the tag', () => {
    expect(formatLine({ sensorId: 'a b,c=d', observedAt: 1700000000000, levelCm: 12, distanceMm: 1988, batteryV: 3.6, rssiDbm: -97, seq: 7 })).toBe(
      'water_level,sensor_id=a\\ b\\,c\\=d level_cm=12,distance_mm=1988,battery_v=3.6,rssi_dbm=-97,seq=7i 1700000000000',
    );
  });
});
