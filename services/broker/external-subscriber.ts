import { createRequire } from 'node:module';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { READING_TOPIC_FILTER, parseReadingTopic } from '../core/topic.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { waitForFirstConnect } from './first-connect.ts';

export interface ExternalSubscriberOptions {
  url: string;
  username?: string;
  password?: string;
  /** Fixed client id: the broker keeps this session's queue while the ingest restarts. */
  clientId: string;
  /**
   * MQTT_SHARE_GROUP (issue 15): subscribe to `$share/<group>/flood/+/reading`, so the
   * broker gives each reading to one of the workers in the group (Mosquitto 2, EMQX).
   */
  shareGroup?: string;
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
 * The mqtt.js version whose private `MqttClient._sendPacket` the PUBACK hold
 * below was read against (build/lib/handlers/publish.js, build/lib/client.js).
 * package.json pins mqtt to exactly this version (no caret), start-up refuses
 * any other, and test/integration/external-ack-pin.test.ts fails when they
 * differ or when a PUBACK leaves before the commit (docs/architecture.md,
 * "Dependencies we patch"). Upgrading mqtt means re-reading those two files,
 * then changing this constant and the pin together.
 */
export const MQTT_PATCH_VERIFIED_VERSION = '5.16.0';

/** The installed mqtt.js version (its package.json is in its `exports`). */
export function installedMqttVersion(): string {
  return (createRequire(import.meta.url)('mqtt/package.json') as { version: string }).version;
}

/**
 * Ingest from an external broker (Mosquitto). The broker authenticates
 * sensors and enforces their topics with its ACL; identity is the topic.
 *
 * Persistent session (clean session off) with a QoS 1 subscription, so
 * readings published while the ingest is down are queued by the broker and
 * delivered on return [MQTT-3.1.2-4]. The PUBACK for a reading is sent only
 * once it is durable, so the broker redelivers anything we had not stored.
 */
export async function connectExternalSubscriber(options: ExternalSubscriberOptions): Promise<ExternalSubscriber> {
  const { ingest } = options;
  const onEvent = options.onEvent ?? (() => {});
  const installed = installedMqttVersion();
  if (installed !== MQTT_PATCH_VERIFIED_VERSION) {
    // Fail before connecting: with another version the wrapper below might
    // never see the PUBACK, and "acknowledged once stored" would silently
    // become "acknowledged on receipt" (a failed commit would lose readings).
    throw new Error(
      `mqtt ${installed} is installed, but the external-broker ingest holds PUBACKs through a private mqtt.js function verified only with mqtt ${MQTT_PATCH_VERIFIED_VERSION}; ` +
        `install that version (npm ci) or re-verify the patch (docs/architecture.md, "Dependencies we patch")`,
    );
  }
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

  // mqtt.js handles incoming packets one at a time: it parses the next
  // PUBLISH only after handleMessage's callback has run and the PUBACK was
  // written (mqtt 5.16 lib/client.js work queue, lib/handlers/publish.js).
  // Waiting there for the group commit stored one reading per commit, ~400/s
  // through Mosquitto (bench: pipeline). So the callback runs at once and
  // the PUBACK it triggers is held here until the reading is durable, in the
  // order the PUBLISHes arrived [MQTT-4.6.0-2].
  const heldAcks = new Map<number, Promise<void>>();
  let ackChain: Promise<void> = Promise.resolve();
  type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;
  // mqtt.js has no public way to hold a PUBACK without stalling its packet
  // queue: `customHandleAcks` exists only for MQTT 5 and sends the PUBACK
  // inside the same queue step (mqtt 5.16 lib/handlers/publish.js), so holding
  // it there is the one-reading-per-commit case above (customHandleAcks is
  // also ignored unless protocolVersion is 5, lib/client.js; Mosquitto's
  // queueing for us is MQTT 3.1.1 here). Hence this wrapper of the private
  // `_sendPacket`, on an exactly pinned mqtt (MQTT_PATCH_VERIFIED_VERSION,
  // issue 16). Fail loudly at start if it is missing; the tests in
  // test/integration/external-ack*.test.ts fail if PUBACKs leave another way.
  const internals = client as unknown as { _sendPacket?: SendPacket };
  if (typeof internals._sendPacket !== 'function') {
    client.end(true);
    throw new Error(`mqtt.js ${installed} has no MqttClient._sendPacket: PUBACK-after-commit cannot be guaranteed (verified with mqtt ${MQTT_PATCH_VERIFIED_VERSION})`);
  }
  const sendPacket = internals._sendPacket.bind(client);
  internals._sendPacket = (packet, cb, ...rest) => {
    const durable = packet.cmd === 'puback' && packet.messageId !== undefined ? heldAcks.get(packet.messageId) : undefined;
    if (!durable) return sendPacket(packet, cb, ...rest);
    heldAcks.delete(packet.messageId as number);
    const stream = client.stream;
    cb?.(); // let mqtt.js go on to the next packet now
    durable.then(
      // Only on the connection the PUBLISH came in on; after a reconnect the broker redelivers it.
      () => void (client.stream === stream && !stream.destroyed && sendPacket(packet, undefined, ...rest)),
      () => {},
    );
  };

  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const sensorId = parseReadingTopic(packet.topic);
    const outcome: Promise<unknown> =
      sensorId === undefined
        ? Promise.resolve(ingest.reject('unknown_topic', `topic ${packet.topic.slice(0, 200)}`))
        : ingest.submit(sensorId, packet.payload as Buffer);
    const stream = client.stream;
    const durable = ackChain.then(() => outcome).then(
      () => undefined,
      (err: Error) => {
        // Not durable: withhold the PUBACK and reconnect, so the broker redelivers it.
        onEvent('store-failed', { error: err.message });
        if (client.stream === stream) stream.destroy(err);
        throw err;
      },
    );
    ackChain = durable.catch(() => {});
    if (packet.qos === 1 && packet.messageId !== undefined) heldAcks.set(packet.messageId, durable);
    callback();
  };

  const shared = options.shareGroup ? `$share/${options.shareGroup}/${READING_TOPIC_FILTER}` : undefined;
  const filter = shared ?? READING_TOPIC_FILTER;
  client.on('connect', (connack) => {
    onEvent('connected', { url: options.url, sessionPresent: connack.sessionPresent });
    // Subscribing again when the session is present is harmless (the broker
    // replaces the subscription, keeping the queue) and repairs a session
    // that lost it.
    client.subscribe(filter, { qos: 1 }, (err) => {
      if (err) onEvent('subscribe-failed', { error: err.message });
    });
    // A persistent session from before MQTT_SHARE_GROUP was set keeps its plain subscription too (every reading twice).
    if (connack.sessionPresent && shared) client.unsubscribe(READING_TOPIC_FILTER);
  });
  client.on('error', (err) => onEvent('error', { error: err.message }));
  client.on('offline', () => onEvent('offline', {}));

  // Wait for the first session so start-up logs say whether the broker is
  // there, but never fail the service for it: the map and API still serve
  // stored data, /healthz reports the broker down, and MQTT.js keeps retrying.
  const firstConnectMs = options.firstConnectTimeoutMs ?? 10_000;
  await waitForFirstConnect(client, firstConnectMs, () => onEvent('not-connected-yet', { url: options.url, after_ms: firstConnectMs }));

  return {
    client,
    connected: () => client.connected,
    close: () => new Promise<void>((r) => client.end(false, {}, () => r())),
  };
}
