import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config.ts';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ HTTP_PORT: 8080, MQTT_PORT: 1883, DATA_DIR: './data', LOG_LEVEL: 'info', STORE: 'sqlite', MQTT_URL: undefined });
    expect(c.MAP_TILE_URL).toContain('{z}/{x}/{y}');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ HTTP_PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_PORT: '70000' })).toThrow(/HTTP_PORT/);
    expect(() => loadConfig({ MQTT_URL: 'not a url' })).toThrow(/MQTT_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('treats an empty MQTT_URL as unset (embedded broker)', () => {
    expect(loadConfig({ MQTT_URL: '' }).MQTT_URL).toBeUndefined();
    expect(loadConfig({ MQTT_URL: 'mqtt://127.0.0.1:1883' }).MQTT_URL).toBe('mqtt://127.0.0.1:1883');
  });
});
