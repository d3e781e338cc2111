import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';

/** A simulated sensor: who it is on MQTT and what it measures. */
export const SimSensorSchema = z.object({
  id: z.string().min(1),
  username: z.string().min(1),
  password: z.string().min(1),
  kind: z.enum(['level', 'distance']).default('level'),
  mountHeightMm: z.number().positive().optional(),
});
export type SimSensor = z.infer<typeof SimSensorSchema>;

/** Reconnect backoff: first retry after 1 s, doubling to at most 30 s, ±20 % jitter so a fleet does not reconnect in lockstep. */
export const BACKOFF = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 } as const;

/** Delay before reconnect attempt number `attempt` (0-based). `random` in [0, 1). */
export function backoffMs(attempt: number, random: number, backoff: { initialMs: number; maxMs: number; jitter: number } = BACKOFF): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 + backoff.jitter * (random * 2 - 1)));
}

interface ReconnectInternals {
  _clearReconnect(): void;
  _setupReconnect(): void;
  reconnecting: boolean;
  disconnecting: boolean;
}

export interface SessionOptions {
  url: string;
  sensor: SimSensor;
  /** Clean session off by default: the broker keeps the session and QoS 1 messages in flight across reconnects. */
  clean?: boolean;
  keepaliveS?: number;
  backoff?: { initialMs: number; maxMs: number; jitter: number };
  random?: () => number;
}

/**
 * Connect one sensor the way field firmware does: its own credentials,
 * client id = sensor id, persistent session, and reconnecting with
 * exponential backoff. mqtt.js retries at a fixed `reconnectPeriod` and has
 * no backoff option (mqtt 5.16 lib/client.js `_setupReconnect`), so after
 * each close we re-arm its reconnect timer with the next delay; unacknowledged
 * QoS 1 publishes stay in its outgoing store and are resent on reconnect.
 */
export function openSensorSession(options: SessionOptions): MqttClient {
  const backoff = options.backoff ?? BACKOFF;
  const random = options.random ?? Math.random;
  const client = mqtt.connect(options.url, {
    // Client id = sensor id, as field firmware does (one session per sensor).
    clientId: options.sensor.id,
    username: options.sensor.username,
    password: options.sensor.password,
    clean: options.clean ?? false,
    protocolVersion: 4,
    keepalive: options.keepaliveS ?? 60,
    connectTimeout: 10_000,
    reconnectPeriod: backoffMs(0, random(), backoff),
    // A sensor would buffer readings while offline; so do we (QoS 1 queue).
    queueQoSZero: false,
  });
  let attempt = 0;
  client.on('connect', () => {
    attempt = 0;
  });
  client.on('close', () => {
    const c = client as unknown as ReconnectInternals;
    if (c.disconnecting || !c.reconnecting || held.has(client)) return;
    attempt++;
    c._clearReconnect();
    client.options.reconnectPeriod = backoffMs(attempt, random(), backoff);
    c._setupReconnect();
  });
  // Errors (refused CONNECT, resets) are reported via 'close'/'error' listeners the caller adds; never crash.
  client.on('error', () => {});
  return client;
}

const held = new WeakSet<MqttClient>();
const HOLD_MS = 24 * 3_600_000;

/** Simulated network loss: drop the TCP connection and do not reconnect until `releaseOffline`. */
export function holdOffline(client: MqttClient): void {
  held.add(client);
  client.options.reconnectPeriod = HOLD_MS;
  client.stream?.destroy();
}

/** End a `holdOffline`: reconnect now, keeping the session's unacknowledged publishes. */
export function releaseOffline(client: MqttClient): void {
  if (!held.delete(client)) return;
  const c = client as unknown as ReconnectInternals;
  c._clearReconnect();
  client.options.reconnectPeriod = BACKOFF.initialMs;
  client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
}

/** A sensor could not connect (broker unreachable or credentials refused). */
export class SensorConnectError extends Error {
  override readonly name = 'SensorConnectError';
}

/** Resolve when `client` is connected, or reject after `timeoutMs` (with the last error). */
export function waitConnected(client: MqttClient, timeoutMs = 10_000): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (err: Error) => (lastError = err);
    const timer = setTimeout(() => {
      cleanup();
      reject(new SensorConnectError(`${client.options.clientId}: not connected within ${timeoutMs / 1000} s${lastError ? ` (${lastError.message})` : ''}`));
    }, timeoutMs);
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

/** Disconnect cleanly (sends DISCONNECT; waits at most `timeoutMs` for in-flight acks). */
export function closeSession(client: MqttClient, force = false): Promise<void> {
  return new Promise((resolve) => client.end(force, {}, () => resolve()));
}
