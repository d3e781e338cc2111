import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { READING_TOPIC_FILTER, parseReadingTopic } from '../core/topic.ts';
import type { Ingest } from '../ingest/create-ingest.ts';

export interface ExternalSubscriberOptions {
  url: string;
  username?: string;
  password?: string;
  /** Fixed client id: the broker keeps this session's queue while the ingest restarts. */
  clientId: string;
  ingest: Ingest;
  /** How long start-up waits for the first CONNACK before going on without it (it keeps retrying). */
  firstConnectTimeoutMs?: number;
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface ExternalSubscriber {
  readonly client: MqttClient;
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * Ingest from an external broker (Mosquitto). The broker authenticates
 * sensors and enforces their topics with its ACL; identity is the topic.
 *
 * Persistent session (clean session off) with a QoS 1 subscription, so
 * readings published while the ingest is down are queued by the broker and
 * delivered on return [MQTT-3.1.2-4]. `handleMessage` is MQTT.js's documented
 * hook whose callback sends the PUBACK: we call it only once the reading is
 * durable, so the broker redelivers anything we had not stored.
 */
export async function connectExternalSubscriber(options: ExternalSubscriberOptions): Promise<ExternalSubscriber> {
  const { ingest } = options;
  const onEvent = options.onEvent ?? (() => {});
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  };
  const client = mqtt.connect(options.url, clientOptions);

  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const sensorId = parseReadingTopic(packet.topic);
    if (sensorId === undefined) {
      ingest.reject('unknown_topic', `topic ${packet.topic.slice(0, 200)}`);
      return callback();
    }
    ingest.submit(sensorId, packet.payload as Buffer).then(
      () => callback(),
      (err: Error) => {
        // Not durable: withhold the PUBACK and reconnect, so the broker redelivers it.
        onEvent('store-failed', { error: err.message });
        client.stream.destroy(err);
      },
    );
  };

  client.on('connect', (connack) => {
    onEvent('connected', { url: options.url, sessionPresent: connack.sessionPresent });
    // Subscribing again when the session is present is harmless (the broker
    // replaces the subscription, keeping the queue) and repairs a session
    // that lost it.
    client.subscribe(READING_TOPIC_FILTER, { qos: 1 }, (err) => {
      if (err) onEvent('subscribe-failed', { error: err.message });
    });
  });
  client.on('error', (err) => onEvent('error', { error: err.message }));
  client.on('offline', () => onEvent('offline', {}));

  // Wait for the first session so start-up logs say whether the broker is
  // there, but never fail the service for it: the map and API still serve
  // stored data, /healthz reports the broker down, and MQTT.js keeps retrying.
  const firstConnectMs = options.firstConnectTimeoutMs ?? 10_000;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onEvent('not-connected-yet', { url: options.url, after_ms: firstConnectMs });
      resolve();
    }, firstConnectMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  return {
    client,
    connected: () => client.connected,
    close: () => new Promise<void>((r) => client.end(false, {}, () => r())),
  };
}
