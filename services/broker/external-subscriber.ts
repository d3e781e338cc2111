import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocket } from 'ws';
import { READING_TOPIC_FILTER, parseReadingTopic } from '../core/topic.ts';
import type { Ingest, SubmitItem } from '../ingest/create-ingest.ts';
import { CONNACK_REFUSED, createPacketReader, decodePublish, DISCONNECT, encodeConnect, encodePubacks, encodeSubscribe, encodeUnsubscribe, PACKET, PINGREQ } from './mqtt-wire.ts';

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
  /** MQTT keep alive (§3.1.2.10), seconds; default 60. */
  keepaliveS?: number;
  /** Wait before connecting again after the connection is lost or refused; default 1 s. */
  reconnectMs?: number;
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface ExternalSubscriber {
  connected(): boolean;
  close(): Promise<void>;
}

/** How long a CONNECT may wait for its CONNACK before the attempt is dropped (as mqtt.js's connectTimeout). */
const CONNECT_TIMEOUT_MS = 10_000;

/** The transport for an MQTT_URL: TCP (mqtt:, tcp:), TLS (mqtts:, ssl:) or a WebSocket (ws:, wss:, subprotocol `mqtt`). */
function openTransport(url: URL): Duplex {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  switch (url.protocol) {
    case 'mqtt:':
    case 'tcp:':
      return connectTcp({ host, port: Number(url.port || 1883) }).setNoDelay(true);
    case 'mqtts:':
    case 'ssl:':
      return connectTls({ host, port: Number(url.port || 8883), servername: host }).setNoDelay(true);
    case 'ws:':
    case 'wss:':
      // MQTT over WebSocket: binary frames, subprotocol "mqtt" (§6.0).
      return createWebSocketStream(new WebSocket(url, ['mqtt']));
    default:
      throw new Error(`MQTT_URL ${url.protocol}: use mqtt:, mqtts:, ws: or wss:`);
  }
}

/**
 * Ingest from an external broker (Mosquitto, EMQX): a small MQTT 3.1.1
 * subscriber of its own (services/broker/mqtt-wire.ts). The broker
 * authenticates sensors and enforces their topics with its ACL; identity is
 * the topic.
 *
 * Persistent session (clean session off) with a QoS 1 subscription, so
 * readings published while the ingest is down are queued by the broker and
 * delivered on return [MQTT-3.1.2-4]. The PUBACK for a reading is sent only
 * once it is durable (stored, and on the bus in the split roles), so the
 * broker redelivers anything we had not stored; PUBACKs leave in the order
 * the PUBLISHes came [MQTT-4.6.0-2].
 *
 * Why not mqtt.js here (it still carries the bus and the LoRaWAN servers'
 * MQTT): it hands over one PUBLISH at a time and writes its PUBACK in that
 * same step, so holding the PUBACK until the commit meant wrapping its
 * private `_sendPacket`; and its per-message work was most of the ingest's
 * CPU (bench: ingest, issue 15). This client takes every PUBLISH in one
 * socket read as one batch: one `submitMany`, one promise, one write of all
 * their PUBACKs once the batch is durable.
 */
export async function connectExternalSubscriber(options: ExternalSubscriberOptions): Promise<ExternalSubscriber> {
  const { ingest } = options;
  const onEvent = options.onEvent ?? (() => {});
  const url = new URL(options.url);
  const keepaliveS = Math.max(1, options.keepaliveS ?? 60);
  const reconnectMs = options.reconnectMs ?? 1000;
  const shared = options.shareGroup ? `$share/${options.shareGroup}/${READING_TOPIC_FILTER}` : undefined;
  const filter = shared ?? READING_TOPIC_FILTER;

  let transport: Duplex | undefined;
  let isConnected = false;
  let closing = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let firstConnect: () => void = () => {};
  const firstConnected = new Promise<void>((r) => (firstConnect = r));
  // PUBACKs in arrival order across batches: each batch's write waits for the batch before it.
  let ackChain: Promise<void> = Promise.resolve();

  function scheduleReconnect(): void {
    if (closing || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      start();
    }, reconnectMs);
  }

  function start(): void {
    let t: Duplex;
    try {
      t = openTransport(url);
    } catch (err) {
      onEvent('error', { error: (err as Error).message });
      return scheduleReconnect();
    }
    transport = t;
    let lastHeard = Date.now();
    let nextId = 1;
    const id = () => (nextId = nextId === 0xffff ? 1 : nextId + 1);
    const connectTimer = setTimeout(() => t.destroy(new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    // §3.1.2.10: a PINGREQ each keep-alive period; the broker silent for 1.5 periods means the connection is dead.
    const pinger = setInterval(() => {
      if (Date.now() - lastHeard > keepaliveS * 1500) return t.destroy(new Error(`broker silent for ${keepaliveS * 1.5} s (keep alive)`));
      if (isConnected) t.write(PINGREQ);
    }, keepaliveS * 1000);

    let batch: SubmitItem[] = [];
    let ackIds: number[] = [];
    const read = createPacketReader((firstByte, body) => {
      const type = firstByte >> 4;
      if (type === PACKET.PUBLISH) {
        const p = decodePublish(firstByte, body);
        if (!p) throw new Error('malformed PUBLISH');
        const sensorId = parseReadingTopic(p.topic);
        if (sensorId === undefined) ingest.reject('unknown_topic', `topic ${p.topic.slice(0, 200)}`);
        else batch.push({ sensorId, payload: p.payload });
        if (p.qos > 0) ackIds.push(p.id);
      } else if (type === PACKET.CONNACK) {
        clearTimeout(connectTimer);
        const code = body[1] ?? 0xff;
        if (code !== 0) {
          onEvent('error', { error: `connection refused: ${CONNACK_REFUSED[code] ?? `return code ${code}`}` });
          return t.destroy();
        }
        const sessionPresent = ((body[0] ?? 0) & 1) === 1;
        isConnected = true;
        onEvent('connected', { url: options.url, sessionPresent });
        // Subscribing again when the session is present is harmless (the broker
        // replaces the subscription, keeping the queue) and repairs a session that lost it.
        t.write(encodeSubscribe(id(), filter, 1));
        // A persistent session from before MQTT_SHARE_GROUP was set keeps its plain subscription too (every reading twice).
        if (sessionPresent && shared) t.write(encodeUnsubscribe(id(), READING_TOPIC_FILTER));
        firstConnect();
      } else if (type === PACKET.SUBACK) {
        // §3.9.3: 0x80 is a refusal (the ACL does not allow the filter).
        if (body[2] === 0x80) onEvent('subscribe-failed', { error: `the broker refused the subscription to ${filter}` });
      }
      // PINGRESP and UNSUBACK need nothing beyond lastHeard.
    });

    t.on('data', (chunk: Buffer) => {
      lastHeard = Date.now();
      try {
        read(chunk);
      } catch (err) {
        onEvent('error', { error: (err as Error).message });
        return t.destroy();
      }
      if (!batch.length && !ackIds.length) return;
      // The payloads are views into this chunk: submitMany parses them now, before returning. A throw there (the
      // registry's database failing) is a failed write: no PUBACKs, the broker delivers them again.
      let outcome: Promise<void>;
      try {
        outcome = batch.length ? ingest.submitMany(batch) : Promise.resolve();
      } catch (err) {
        outcome = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const ids = ackIds;
      batch = [];
      ackIds = [];
      const durable = ackChain.then(() => outcome);
      ackChain = durable.then(
        // Only on the connection the PUBLISHes came in on; after a reconnect the broker redelivers them.
        () => void (ids.length && transport === t && !t.destroyed && t.write(encodePubacks(ids))),
        (err: Error) => {
          // Not durable: withhold the PUBACKs and reconnect, so the broker redelivers them.
          onEvent('store-failed', { error: err.message });
          t.destroy();
        },
      );
    });
    const connectedNow = () => {
      t.write(encodeConnect({
        clientId: options.clientId, clean: false, keepaliveS,
        ...(options.username !== undefined && { username: options.username }),
        ...(options.password !== undefined && { password: options.password }),
      }));
    };
    // A WebSocket stream is writable at once (it buffers until open); a socket says when it is connected.
    if (url.protocol === 'ws:' || url.protocol === 'wss:') connectedNow();
    else t.once(url.protocol === 'mqtts:' || url.protocol === 'ssl:' ? 'secureConnect' : 'connect', connectedNow);
    t.on('error', (err) => onEvent('error', { error: err.message }));
    t.on('close', () => {
      clearTimeout(connectTimer);
      clearInterval(pinger);
      if (transport !== t) return;
      transport = undefined;
      if (isConnected) onEvent('offline', {});
      isConnected = false;
      scheduleReconnect();
    });
  }

  start();
  // Wait for the first session so start-up logs say whether the broker is
  // there, but never fail the service for it: the map and API still serve
  // stored data, /healthz reports the broker down, and the client keeps retrying.
  const firstConnectMs = options.firstConnectTimeoutMs ?? 10_000;
  let lateTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    firstConnected,
    new Promise<void>((r) => (lateTimer = setTimeout(() => (onEvent('not-connected-yet', { url: options.url, after_ms: firstConnectMs }), r()), firstConnectMs))),
  ]);
  clearTimeout(lateTimer);

  return {
    connected: () => isConnected,
    async close() {
      closing = true;
      clearTimeout(reconnectTimer);
      const t = transport;
      if (!t || t.destroyed) return;
      // Let the PUBACKs of what is already durable go out first (a store that hangs gets 5 s), then DISCONNECT (§3.14).
      await Promise.race([ackChain, new Promise<void>((r) => setTimeout(r, 5000).unref())]);
      await new Promise<void>((resolve) => {
        t.once('close', () => resolve());
        t.end(DISCONNECT);
        setTimeout(() => t.destroy(), 2000).unref();
      });
    },
  };
}
