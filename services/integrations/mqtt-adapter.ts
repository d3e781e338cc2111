import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { UplinkSource } from '../core/uplink.ts';
import { parseChirpstackUp, parseTtnUplink, type MessageResult } from './messages.ts';
import type { UplinkReceiver } from './receiver.ts';
import { waitForFirstConnect } from '../broker/first-connect.ts';

export interface NetworkServerMqttOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId: string;
  receiver: UplinkReceiver;
  now?: () => number;
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
  /** How long start-up waits for the first CONNACK before going on without it (it keeps retrying). */
  firstConnectTimeoutMs?: number;
}

export interface NetworkServerMqtt {
  readonly source: UplinkSource;
  readonly client: MqttClient;
  connected(): boolean;
  /** Connected and the broker granted the subscription (QoS 0 messages before that are not delivered). */
  subscribed(): boolean;
  close(): Promise<void>;
}

interface Profile {
  source: UplinkSource;
  topic: string;
  qos: 0 | 1;
  clean: boolean;
  parse: (json: unknown, source: UplinkSource, now: number) => MessageResult;
}

/**
 * The Things Stack v3 MQTT server: QoS 0 only (its docs: "The MQTT server
 * supports QoS 0 only"), so nothing is queued while kansui is disconnected
 * and an uplink published then is lost; the TTN webhook (retried by TTN) or
 * the Storage Integration fills such gaps. Topic `v3/{username}/devices/+/up`.
 */
export function ttnProfile(username: string): Profile {
  return { source: 'ttn-mqtt', topic: `v3/${username}/devices/+/up`, qos: 0, clean: true, parse: parseTtnUplink };
}

/**
 * ChirpStack v4 MQTT integration, JSON encoding (its default):
 * `application/{application id}/device/{devEUI}/event/up`. A persistent
 * session with a QoS 1 subscription keeps what the broker queued while
 * kansui was away when ChirpStack publishes at QoS 1 (its `qos` setting;
 * at its default QoS 0 the broker downgrades and queues nothing).
 */
export function chirpstackProfile(): Profile {
  return { source: 'chirpstack-mqtt', topic: 'application/+/device/+/event/up', qos: 1, clean: false, parse: parseChirpstackUp };
}

/**
 * One MQTT adapter for both network servers' brokers (outbound connections
 * the operator configures). A QoS 1 message is handled to the end — stored,
 * refused or ignored — before the next, and its PUBACK is sent only then, so
 * the broker redelivers what was not stored (one commit per message: about
 * 100 a second on a loaded 2-core machine, far above a city's uplink rate).
 * QoS 0 messages are handed on at once and share group commits.
 */
export async function connectNetworkServerMqtt(profile: Profile, options: NetworkServerMqttOptions): Promise<NetworkServerMqtt> {
  const { receiver } = options;
  const now = options.now ?? Date.now;
  const onEvent = options.onEvent ?? (() => {});
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    clean: profile.clean,
    protocolVersion: 4,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  };
  const client = mqtt.connect(options.url, clientOptions);

  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    let json: unknown;
    try {
      json = JSON.parse((packet.payload as Buffer).toString('utf8'));
    } catch {
      receiver.count(profile.source, 'invalid', `topic ${packet.topic.slice(0, 200)}: malformed JSON`);
      return callback();
    }
    const parsed = profile.parse(json, profile.source, now());
    if (!parsed.ok) {
      receiver.count(profile.source, 'invalid', parsed.detail);
      return callback();
    }
    const handled = receiver.receive(parsed.uplink);
    if (packet.qos === 0) {
      // Nothing to acknowledge (TTN's only QoS, ChirpStack's default): take the next message at once, so
      // uplinks arriving together share one group commit instead of one commit each.
      callback();
      handled.catch((err: Error) => onEvent('store-failed', { source: profile.source, error: err.message }));
      return;
    }
    handled.then(
      () => callback(),
      (err: Error) => {
        // Not durable: drop the connection without acknowledging, so a QoS 1 message comes again.
        onEvent('store-failed', { source: profile.source, error: err.message });
        client.stream.destroy(err);
      },
    );
  };

  let subscribed = false;
  client.on('connect', () => {
    onEvent('connected', { source: profile.source, url: options.url });
    client.subscribe(profile.topic, { qos: profile.qos }, (err, granted) => {
      // SUBACK 0x80: refused, e.g. by the broker's ACL (a wrong application id in the username).
      if (err || granted?.some((g) => g.qos === 128)) onEvent('subscribe-failed', { source: profile.source, topic: profile.topic, error: err?.message ?? 'refused by the broker' });
      else subscribed = true;
    });
  });
  client.on('close', () => (subscribed = false));
  client.on('error', (err) => onEvent('error', { source: profile.source, error: err.message }));
  client.on('offline', () => onEvent('offline', { source: profile.source }));

  const firstConnectMs = options.firstConnectTimeoutMs ?? 10_000;
  await waitForFirstConnect(client, firstConnectMs, () => onEvent('not-connected-yet', { source: profile.source, url: options.url, after_ms: firstConnectMs }));

  return {
    source: profile.source,
    client,
    connected: () => client.connected,
    subscribed: () => client.connected && subscribed,
    close: () => new Promise<void>((r) => client.end(false, {}, () => r())),
  };
}
