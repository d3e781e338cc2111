import { Aedes, type AedesOptions, type Client } from 'aedes';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { LIMITS } from '../core/limits.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { maySubscribe, parseReadingTopic } from '../core/topic.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { verifySecret } from '../storage/secrets.ts';

export interface EmbeddedBrokerOptions {
  registry: SensorRegistry;
  ingest: Ingest;
  /** Called for connection-level events the host may want to log. */
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** Listen on TCP; resolves the bound port (pass 0 for an ephemeral one). */
  listen(port: number, host?: string): Promise<number>;
  /** Drop a connected sensor at once (credential rotated or revoked). */
  disconnectSensor(sensorId: string): number;
  connectedSensors(): number;
  close(): Promise<void>;
}

/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes. */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

type SensorClient = Client & { sensorId?: string };

function authError(code: number, message: string) {
  return Object.assign(new Error(message), { returnCode: code });
}

/**
 * Reject any packet whose Remaining Length (MQTT 3.1.1 §2.2.3) exceeds the
 * cap before its body is buffered: aedes 1.2 has no max packet size option
 * (shared/NOTES.md) and would otherwise buffer up to 256 MB per packet.
 * Hooks the mqtt-packet parser instance aedes creates for this client.
 */
function capPacketSize(client: Client, maxBytes: number): void {
  const parser = (client as unknown as { _parser?: { _parseLength(): boolean; packet: { length: number }; emit(e: string, err: Error): void } })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const original = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const ok = original();
    if (ok && parser.packet.length > maxBytes) {
      parser.emit('error', new Error(`packet of ${parser.packet.length} bytes exceeds ${maxBytes}`));
      return false;
    }
    return ok;
  };
}

/**
 * The embedded broker (aedes). Sensor identity comes from the CONNECT
 * credentials (username = sensor id). A reading is handed to the ingest in
 * `authorizePublish`, which aedes runs before it writes the PUBACK
 * (lib/handlers/publish.js), so a QoS 1 PUBACK means "durably stored".
 *
 * Refusals: a bad payload or a topic the sensor may not use is acknowledged,
 * counted and dropped. MQTT 3.1.1 has no negative PUBACK and lets the server
 * either acknowledge or close [MQTT-3.3.5-2]; closing would make a sensor
 * with a persistent session resend the same bad message forever. Only a
 * store failure withholds the PUBACK (closing the connection), so the sensor
 * retries and nothing good is lost.
 */
export async function createEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { registry, ingest } = options;
  const onEvent = options.onEvent ?? (() => {});
  const bySensor = new Map<string, Set<SensorClient>>();

  const opts: AedesOptions = {
    // Sensors publish; no-one in the embedded setup needs retained or bridged state.
    authenticate(client: SensorClient, username, password, done) {
      const sensorId = username ?? '';
      const sensor = registry.get(sensorId) ?? (registry.refresh() ? registry.get(sensorId) : undefined);
      const credential = sensor ? registry.getCredential(sensorId) : undefined;
      if (!sensor || !credential || !password || !verifySecret(password.toString('utf8'), credential.passwordHash)) {
        onEvent('auth-failed', { username: sensorId, clientId: client.id });
        return done(authError(BAD_USERNAME_OR_PASSWORD, 'bad user name or password'), false);
      }
      if (sensor.state === 'retired') {
        return done(authError(NOT_AUTHORIZED, 'sensor retired'), false);
      }
      client.sensorId = sensorId;
      capPacketSize(client, LIMITS.maxPacketBytes);
      done(null, true);
    },
    authorizePublish(client: SensorClient | null, packet, done) {
      if (!client) return done(null); // broker-internal publish ($SYS heartbeat)
      const sensorId = client.sensorId;
      packet.retain = false;
      const topicSensor = parseReadingTopic(packet.topic);
      if (topicSensor === undefined) {
        const reason = packet.topic.startsWith('$') || !packet.topic.startsWith('flood/') ? 'topic_not_allowed' : 'unknown_topic';
        ingest.reject(reason, `topic ${packet.topic.slice(0, 200)}`, sensorId);
        return done(null);
      }
      if (topicSensor !== sensorId) {
        ingest.reject('topic_not_allowed', `${sensorId} published to ${packet.topic}`, sensorId);
        return done(null);
      }
      ingest.submit(topicSensor, packet.payload as Buffer).then(
        () => done(null),
        (err: Error) => done(err),
      );
    },
    authorizeSubscribe(client: SensorClient | null, sub, done) {
      if (client?.sensorId && maySubscribe(client.sensorId, sub.topic)) return done(null, sub);
      onEvent('subscribe-denied', { sensorId: client?.sensorId, topic: sub.topic });
      // null grants nothing: SUBACK 0x80 for this filter, connection stays up [MQTT-3.9.3].
      done(null, null as never);
    },
  };
  const aedes = await Aedes.createBroker(opts);

  aedes.on('clientReady', (client: SensorClient) => {
    if (!client.sensorId) return;
    let set = bySensor.get(client.sensorId);
    if (!set) bySensor.set(client.sensorId, (set = new Set()));
    set.add(client);
  });
  aedes.on('clientDisconnect', (client: SensorClient) => {
    if (client.sensorId) bySensor.get(client.sensorId)?.delete(client);
  });
  aedes.on('clientError', (client: SensorClient, err: Error) => {
    // aedes closes a connection that publishes to a wildcard topic, a protocol
    // violation [MQTT-3.3.2-2]; count it as a refused reading.
    if (/not allowed in PUBLISH|too many levels|empty topic/.test(err.message)) {
      ingest.reject('topic_not_allowed', err.message, client.sensorId);
    }
    onEvent('client-error', { sensorId: client.sensorId, error: err.message });
  });

  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  return {
    aedes,
    async listen(port, host = '0.0.0.0') {
      const server = createServer(aedes.handle as (s: Socket) => void);
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      servers.push(server);
      server.listen(port, host);
      await once(server, 'listening');
      return (server.address() as AddressInfo).port;
    },
    disconnectSensor(sensorId) {
      const set = bySensor.get(sensorId);
      if (!set) return 0;
      const n = set.size;
      for (const c of set) c.close();
      set.clear();
      return n;
    },
    connectedSensors() {
      let n = 0;
      for (const set of bySensor.values()) n += set.size;
      return n;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}
