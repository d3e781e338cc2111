import { Aedes, type AedesOptions, type Client } from 'aedes';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { LIMITS } from '../core/limits.ts';
import { createFrameWatcher, type FrameWatcher } from '../core/mqtt-frame.ts';
import type { SensorRegistry } from '../core/ports.ts';
import type { RejectReason } from '../core/reading.ts';
import { createRateLimiter } from '../core/token-bucket.ts';
import { clientIdBelongsTo, maySubscribe, parseReadingTopic, REFUSED_TOPIC } from '../core/topic.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { verifySecret } from '../storage/secrets.ts';
import { createSensorConnections, type ConnectionRefusal, type SensorClient } from './sensor-connections.ts';

export interface BrokerLimits {
  /** Per-sensor token bucket: refill rate (readings a minute) and size. */
  sensorRatePerMin: number;
  sensorBurst: number;
  /** Simultaneous connections per sensor credential. */
  maxConnectionsPerSensor: number;
  /** Time a new connection has to send CONNECT (s). */
  connectTimeoutS: number;
  /** Connections not yet authenticated; the oldest is dropped for a new one beyond this. */
  maxPendingConnections: number;
  /** Largest Remaining Length of any packet, CONNECT included (bytes). */
  maxPacketBytes: number;
}

export interface EmbeddedBrokerOptions {
  registry: SensorRegistry;
  ingest: Ingest;
  /** Defaults: LIMITS (services/core/limits.ts). */
  limits?: Partial<BrokerLimits>;
  now?: () => number;
  /**
   * Connection-level events the host may want to log. `connection-refused`
   * carries `{ reason: ConnectionRefusal, … }` (for the refusals metric).
   */
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** Listen on TCP; resolves the bound port (pass 0 for an ephemeral one). */
  listen(port: number, host?: string): Promise<number>;
  /** Drop a connected sensor at once (credential rotated or revoked). */
  disconnectSensor(sensorId: string): number;
  /** Sensors with at least one connection past its CONNACK. */
  connectedSensors(): number;
  connectedSensorIds(): ReadonlySet<string>;
  close(): Promise<void>;
}

/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes. */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(code: number, message: string) {
  return Object.assign(new Error(message), { returnCode: code });
}

/**
 * The embedded broker (aedes). Sensor identity comes from the CONNECT
 * credentials (username = sensor id, client id = sensor id or `<id>/…`). A
 * reading is handed to the ingest in `authorizePublish`, which aedes runs
 * before it writes the PUBACK (lib/handlers/publish.js), so a QoS 1 PUBACK
 * means "durably stored".
 *
 * Refusals: a bad payload, a topic the sensor may not use or a reading over
 * the sensor's rate is acknowledged, counted and dropped. MQTT 3.1.1 has no
 * negative PUBACK and lets the server either acknowledge or close
 * [MQTT-3.3.5-2]; closing would make a sensor with a persistent session
 * resend the same bad message forever. "Dropped" includes routing: aedes
 * publishes whatever `authorizePublish` lets through, so a refused packet's
 * topic is rewritten to REFUSED_TOPIC, which no subscription matches. Only a
 * store failure withholds the PUBACK (closing the connection), so the sensor
 * retries and nothing good is lost.
 *
 * Connections that have not authenticated yet are capped all together
 * (`maxPendingConnections`, oldest dropped first) and must send CONNECT
 * within `connectTimeoutS`. Before any of that, every socket's bytes pass a framing guard that reads
 * each packet's fixed header and drops the connection when a packet
 * declares more than `maxPacketBytes` (CONNECT included, before
 * authentication), so no body larger than the cap is ever buffered.
 */
export async function createEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { registry, ingest } = options;
  const limits: BrokerLimits = {
    sensorRatePerMin: LIMITS.sensorRatePerMin,
    sensorBurst: LIMITS.sensorBurst,
    maxConnectionsPerSensor: LIMITS.maxConnectionsPerSensor,
    connectTimeoutS: LIMITS.connectTimeoutS,
    maxPendingConnections: LIMITS.maxPendingConnections,
    maxPacketBytes: LIMITS.maxPacketBytes,
    ...options.limits,
  };
  const now = options.now ?? Date.now;
  const onEvent = options.onEvent ?? (() => {});
  const connections = createSensorConnections();
  const rate = createRateLimiter({ ratePerMin: limits.sensorRatePerMin, burst: limits.sensorBurst });
  /** Sockets the framing guard condemned: nothing more they sent is acted on. */
  const condemned = new WeakSet<object>();
  /** Accepted, not yet authenticated, oldest first (a Set keeps insertion order). */
  const pending = new Set<Socket>();

  const refuseConnection = (reason: ConnectionRefusal, detail: Record<string, unknown>) =>
    onEvent('connection-refused', { reason, ...detail });

  const opts: AedesOptions = {
    connectTimeout: limits.connectTimeoutS * 1000,
    authenticate(client: SensorClient, username, password, done) {
      if (condemned.has(client.conn) || client.conn.destroyed) {
        return done(authError(SERVER_UNAVAILABLE, 'connection closed'), false);
      }
      const sensorId = username ?? '';
      const sensor = registry.get(sensorId) ?? (registry.refresh() ? registry.get(sensorId) : undefined);
      const credential = sensor ? registry.getCredential(sensorId) : undefined;
      if (!sensor || !credential || !password || !verifySecret(password.toString('utf8'), credential.passwordHash)) {
        refuseConnection('bad_credentials', { username: sensorId.slice(0, 100), clientId: client.id?.slice(0, 100) });
        return done(authError(BAD_USERNAME_OR_PASSWORD, 'bad user name or password'), false);
      }
      if (sensor.state === 'retired') {
        refuseConnection('sensor_retired', { sensorId });
        return done(authError(NOT_AUTHORIZED, 'sensor retired'), false);
      }
      // A session is keyed by client id (MQTT 3.1.1 §3.1.2.4) and a second
      // connection with the same id takes it over (§3.1.4): only a client id
      // of this sensor's own may do that. [MQTT-3.1.3-9]: refuse with 0x02.
      if (!clientIdBelongsTo(sensorId, client.id)) {
        refuseConnection('client_id_not_allowed', { sensorId, clientId: client.id.slice(0, 100) });
        return done(authError(IDENTIFIER_REJECTED, 'client id must be the sensor id or start with "<sensor id>/"'), false);
      }
      // The connection this one takes over (same client id) is on its way out: not counted.
      const others = connections.clientsOf(sensorId).filter((c) => c !== client && c.id !== client.id);
      if (others.length >= limits.maxConnectionsPerSensor) {
        refuseConnection('too_many_connections', { sensorId, clientId: client.id, connections: others.length });
        // 0x03 "server unavailable": firmware retries with backoff, where 0x05 would read as revoked.
        return done(authError(SERVER_UNAVAILABLE, `sensor already has ${others.length} connections`), false);
      }
      client.sensorId = sensorId;
      pending.delete(client.conn as Socket);
      connections.add(sensorId, client);
      done(null, true);
    },
    authorizePublish(client: SensorClient | null, packet, done) {
      if (!client) return done(null); // broker-internal publish ($SYS heartbeat)
      if (condemned.has(client.conn)) return done(new Error('connection dropped by the framing guard'));
      const sensorId = client.sensorId;
      packet.retain = false;
      const refuse = (reason: RejectReason, detail: string) => {
        ingest.reject(reason, detail, sensorId);
        packet.topic = REFUSED_TOPIC;
        done(null);
      };
      if (sensorId === undefined) return refuse('topic_not_allowed', 'not authenticated');
      // Every PUBLISH takes a token, good or bad: the limit is on what a credential can make us do.
      if (!rate.take(sensorId, now())) return refuse('rate_limited', `${sensorId} over ${limits.sensorRatePerMin}/min (burst ${limits.sensorBurst})`);
      const topicSensor = parseReadingTopic(packet.topic);
      if (topicSensor === undefined) {
        const reason = packet.topic.startsWith('$') || !packet.topic.startsWith('flood/') ? 'topic_not_allowed' : 'unknown_topic';
        return refuse(reason, `topic ${packet.topic.slice(0, 200)}`);
      }
      if (topicSensor !== sensorId) return refuse('topic_not_allowed', `${sensorId} published to ${packet.topic.slice(0, 200)}`);
      ingest.submit(topicSensor, packet.payload as Buffer).then(
        (outcome) => {
          if (!outcome.ok) packet.topic = REFUSED_TOPIC;
          done(null);
        },
        (err: Error) => done(err),
      );
    },
    authorizeSubscribe(client: SensorClient | null, sub, done) {
      if (client?.sensorId && maySubscribe(client.sensorId, sub.topic)) return done(null, sub);
      onEvent('subscribe-denied', { sensorId: client?.sensorId, topic: sub.topic });
      // null grants nothing: SUBACK 0x80 for this filter, connection stays up [MQTT-3.9.3].
      done(null, null as never);
    },
    authorizeForward(client: SensorClient, packet) {
      // Second line behind the topic rewrite: a sensor only ever gets its own topics.
      if (packet.topic === REFUSED_TOPIC || !client.sensorId || !maySubscribe(client.sensorId, packet.topic)) return null as never;
      return packet;
    },
  };
  const aedes = await Aedes.createBroker(opts);

  aedes.on('clientError', (client: SensorClient, err: Error) => {
    // aedes closes a connection that publishes to a wildcard topic, a protocol
    // violation [MQTT-3.3.2-2]; count it as a refused reading.
    if (/not allowed in PUBLISH|too many levels|empty topic/.test(err.message)) {
      ingest.reject('topic_not_allowed', err.message, client.sensorId);
    }
    onEvent('client-error', { sensorId: client.sensorId, error: err.message });
  });
  aedes.on('connectionError', (client: Client, err: Error) => {
    if (/connect did not arrive in time/.test(err.message)) refuseConnection('connect_timeout', { remoteAddress: (client.conn as Socket).remoteAddress });
  });

  /**
   * The framing guard. aedes reads the socket with `read()` on 'readable'
   * (lib/client.js `nextBatch`); with a 'readable' listener attached, Node
   * emits 'data' with exactly the chunk each `read()` returns, inside that
   * call and before aedes' parser sees it (Node docs, stream 'readable'
   * event: "'readable' takes precedence … 'data' will be emitted only when
   * stream.read() is called"). So at most the one chunk in which a packet
   * declares too much reaches mqtt-packet, not its body: the socket is
   * destroyed at once. Public APIs only (issue 16: no parser patches).
   */
  const watchers = new WeakMap<Socket, FrameWatcher>();
  // One listener function for every socket (`this`), and a small object of state each:
  // it is per connection, and 10,000 sensors stay connected (docs/benchmarks.md).
  function inspect(this: Socket, chunk: Buffer): void {
    const socket = this;
    const verdict = watchers.get(socket)?.feed(chunk) ?? { ok: true };
    if (verdict.ok) return;
    socket.off('data', inspect);
    condemned.add(socket);
    refuseConnection(verdict.reason === 'packet_too_large' ? 'packet_too_large' : 'malformed_packet', {
      remoteAddress: socket.remoteAddress,
      ...(verdict.reason === 'packet_too_large' && { declaredBytes: verdict.declared, maxBytes: limits.maxPacketBytes }),
    });
    socket.destroy();
  }
  function guard(socket: Socket): void {
    watchers.set(socket, createFrameWatcher(limits.maxPacketBytes));
    socket.on('data', inspect);
  }

  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  return {
    aedes,
    async listen(port, host = '0.0.0.0') {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => {
          sockets.delete(socket);
          pending.delete(socket);
          connections.drop(socket);
        });
        if (pending.size >= limits.maxPendingConnections) {
          const oldest = pending.values().next().value as Socket;
          pending.delete(oldest);
          refuseConnection('too_many_pending', { remoteAddress: oldest.remoteAddress, pending: pending.size + 1 });
          oldest.destroy();
        }
        pending.add(socket);
        aedes.handle(socket);
        // After aedes' 'readable' listener, so 'data' never switches the socket to flowing mode.
        guard(socket);
      });
      servers.push(server);
      server.listen(port, host);
      await once(server, 'listening');
      return (server.address() as AddressInfo).port;
    },
    disconnectSensor(sensorId) {
      const clients = connections.clientsOf(sensorId);
      for (const c of clients) c.close();
      return clients.length;
    },
    connectedSensors() {
      return connections.connectedIds().size;
    },
    connectedSensorIds() {
      return connections.connectedIds();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}
