import type { MqttClient } from 'mqtt';

/**
 * Wait for an outbound MQTT client's first session, at most `timeoutMs`, so
 * start-up logs say whether the broker is there; never fail for it (MQTT.js
 * keeps retrying, /healthz reports the broker down). `onLate` runs once when
 * the wait gives up.
 */
export function waitForFirstConnect(client: MqttClient, timeoutMs: number, onLate: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onLate();
      resolve();
    }, timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
