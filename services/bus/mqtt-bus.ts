import mqtt, { type IClientOptions } from 'mqtt';
import type { Reading } from '../core/reading.ts';
import { waitForFirstConnect } from '../broker/first-connect.ts';
import { BusEnvelope, busTopic, parseBusReadings, READINGS_EVENT, type OriginKind } from './bus-events.ts';

/** One event heard on the bus, a batch of readings already split into its readings. */
export type BusMessage =
  | { origin: string; seq: number; kind: OriginKind; event: 'reading'; reading: Reading }
  | { origin: string; seq: number; kind: OriginKind; event: string; data: unknown };

export interface BusOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /**
   * false: a persistent session [MQTT-3.1.2-4], so the broker queues what was
   * published while this process restarts (the core: no reading goes
   * unevaluated). true for web processes, which resync their clients instead.
   */
  clean: boolean;
  /** EVENTS_TOPIC_PREFIX. */
  prefix: string;
  /** This process's origin (`makeOrigin`) and kind: its events go to `<prefix>/<kind>/<event>`. */
  origin: string;
  kind: OriginKind;
  /** Origin kinds whose events this process consumes (none: publish only). */
  consume?: { kind: OriginKind; events?: string[] }[];
  onMessage?: (message: BusMessage) => void;
  /** Malformed bus messages, connection changes: for the host to log and count. */
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
  firstConnectTimeoutMs?: number;
  /** Most readings in one `readings` message (a bigger commit is split). */
  maxBatch?: number;
}

export interface Bus {
  readonly origin: string;
  /** Publish one event (QoS 1). */
  publish(event: string, data: unknown): void;
  /**
   * Publish stored readings, in commit order, as `readings` messages.
   * Resolves once the broker has acknowledged all of them (QoS 1 PUBACK);
   * rejects when it refused one.
   */
  publishReadings(readings: readonly Reading[]): Promise<void>;
  connected(): boolean;
  /** Messages handed to the broker and not yet acknowledged (and queued while disconnected). */
  pending(): number;
  /** Resolves once every event published so far is acknowledged by the broker (or `timeoutMs` passed). */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The broker as the bus between kansui's roles (issue 15): an mqtt.js client
 * that numbers this process's events and publishes them QoS 1, and hands the
 * events of the origins it consumes to `onMessage`, validated, in the order
 * the broker delivered them (per publisher, the order it published in).
 */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const onEvent = options.onEvent ?? (() => {});
  const maxBatch = options.maxBatch ?? 1000;
  let seq = 0;
  let unacked = 0;
  let idle: (() => void)[] = [];
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    clean: options.clean,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
  };
  const client = mqtt.connect(options.url, clientOptions);
  const consume = options.consume ?? [];
  const filters = consume.flatMap((c) => (c.events ?? ['+']).map((e) => busTopic(options.prefix, c.kind, e)));
  let markSubscribed: () => void = () => {};
  const subscribed = new Promise<void>((r) => (markSubscribed = r));
  client.on('connect', (connack) => {
    // Nagle's algorithm held the last segment of a batch of readings until the broker's delayed ACK (~40 ms on
    // Linux), so every commit of an ingest worker waited 40 ms for its bus PUBACK (bench: ingest). mqtt.js leaves
    // TCP_NODELAY off and has no option for it; its stream is a net.Socket for mqtt:, a TLSSocket for mqtts:.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    onEvent('bus-connected', { session_present: connack.sessionPresent });
    // A persistent session keeps its subscription; subscribing again is harmless and covers a broker that lost it.
    if (!filters.length) return markSubscribed();
    client.subscribe(filters, { qos: 1 }, (err, granted) => {
      if (err) onEvent('bus-subscribe-failed', { err: err.message });
      else if (granted?.some((g) => g.qos > 2)) onEvent('bus-subscribe-failed', { granted });
      else markSubscribed();
    });
  });
  client.on('close', () => onEvent('bus-disconnected', {}));
  client.on('error', (err) => onEvent('bus-error', { err: err.message }));

  const kindAt = options.prefix.split('/').length;
  client.on('message', (topic, payload) => {
    const kind = topic.split('/')[kindAt] as OriginKind;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return onEvent('bus-malformed', { topic, reason: 'not JSON' });
    }
    const env = BusEnvelope.safeParse(json);
    if (!env.success) return onEvent('bus-malformed', { topic, reason: env.error.issues[0]?.message });
    const { o, s, e, d } = env.data;
    if (o === options.origin) return;
    if (e === READINGS_EVENT) {
      const readings = parseBusReadings(d);
      if (!readings) return onEvent('bus-malformed', { topic, origin: o, reason: 'readings' });
      readings.forEach((reading, i) => options.onMessage?.({ origin: o, seq: s + i, kind, event: 'reading', reading }));
      return;
    }
    options.onMessage?.({ origin: o, seq: s, kind, event: e, data: d });
  });

  // Start-up waits (bounded) until the subscription is in place, so nothing published after it is missed.
  const firstTimeout = options.firstConnectTimeoutMs ?? 10_000;
  await waitForFirstConnect(client, firstTimeout, () => onEvent('bus-not-connected-yet', { url: options.url }));
  if (client.connected) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([subscribed, new Promise<void>((r) => (timer = setTimeout(r, firstTimeout)))]);
    clearTimeout(timer);
  }

  function send(event: string, first: number, data: unknown, done?: (err?: Error) => void): void {
    unacked++;
    client.publish(busTopic(options.prefix, options.kind, event), JSON.stringify({ o: options.origin, s: first, e: event, d: data }), { qos: 1 }, (err) => {
      unacked--;
      if (err) onEvent('bus-publish-failed', { event, err: err.message });
      done?.(err);
      if (unacked === 0) {
        const waiting = idle;
        idle = [];
        for (const w of waiting) w();
      }
    });
  }

  const bus: Bus = {
    origin: options.origin,
    publish(event, data) {
      send(event, ++seq, data);
    },
    publishReadings(readings) {
      const sent: Promise<void>[] = [];
      for (let i = 0; i < readings.length; i += maxBatch) {
        const part = readings.slice(i, i + maxBatch);
        const first = seq + 1;
        seq += part.length;
        sent.push(new Promise<void>((resolve, reject) => send(READINGS_EVENT, first, part, (err) => (err ? reject(err) : resolve()))));
      }
      return Promise.all(sent).then(() => undefined);
    },
    connected: () => client.connected,
    pending: () => unacked,
    flush(timeoutMs = 5000) {
      if (unacked === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      await bus.flush(2000);
      await client.endAsync();
    },
  };
  return bus;
}
