import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';

/**
 * Connect an mqtt.js client and wait for CONNACK (rejects on refusal). With a
 * username and no client id, the client id is `<username>/test-<random>`: the
 * embedded broker accepts only a sensor's own id or `<id>/…` (docs/contract.md),
 * and a random suffix keeps mqtt.js's one-session-per-connection default.
 */
export async function connectMqtt(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const clientId = options.clientId ?? (options.username ? `${options.username}/test-${Math.random().toString(16).slice(2, 10)}` : undefined);
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options, ...(clientId && { clientId }) });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
  return client;
}

/** Publish one reading at QoS 1 and resolve when the broker's PUBACK arrives. */
export function publishReading(client: MqttClient, sensorId: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  return client.publishAsync(`flood/${sensorId}/reading`, body as string | Buffer, { qos }).then(() => undefined);
}
