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

  it('roles (issue 15): all by default; the split roles and a share group need MQTT_URL, named; instance, prefix and group are checked', () => {
    expect(loadConfig({})).toMatchObject({ KANSUI_ROLE: 'all', EVENTS_TOPIC_PREFIX: 'kansui/events', KANSUI_INSTANCE: undefined, MQTT_SHARE_GROUP: undefined });
    for (const role of ['core', 'ingest', 'web']) {
      expect(() => loadConfig({ KANSUI_ROLE: role })).toThrow(new RegExp(`MQTT_URL: required when KANSUI_ROLE=${role}`));
      expect(loadConfig({ KANSUI_ROLE: role, MQTT_URL: 'mqtt://127.0.0.1:1883' }).KANSUI_ROLE).toBe(role);
    }
    expect(() => loadConfig({ KANSUI_ROLE: 'worker' })).toThrow(/KANSUI_ROLE/);
    expect(() => loadConfig({ MQTT_SHARE_GROUP: 'kansui' })).toThrow(/MQTT_SHARE_GROUP: needs an external broker/);
    expect(() => loadConfig({ MQTT_URL: 'mqtt://127.0.0.1:1883', MQTT_SHARE_GROUP: 'a/b' })).toThrow(/MQTT_SHARE_GROUP/);
    expect(() => loadConfig({ KANSUI_INSTANCE: 'web.1' })).toThrow(/KANSUI_INSTANCE/);
    expect(() => loadConfig({ EVENTS_TOPIC_PREFIX: 'kansui/#' })).toThrow(/EVENTS_TOPIC_PREFIX/);
    expect(() => loadConfig({ EVENTS_TOPIC_PREFIX: '$SYS/kansui' })).toThrow(/EVENTS_TOPIC_PREFIX/);
    expect(loadConfig({ EVENTS_TOPIC_PREFIX: 'city/kansui-events', KANSUI_INSTANCE: 'web-1' })).toMatchObject({ EVENTS_TOPIC_PREFIX: 'city/kansui-events', KANSUI_INSTANCE: 'web-1' });
  });
});
