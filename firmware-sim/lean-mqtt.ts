import { connect, type Socket } from 'node:net';
import { createPacketReader, DISCONNECT, encodeConnect, encodeLength, encodePubacks, encodeSubscribe, PINGREQ } from '../services/broker/mqtt-wire.ts';

/**
 * A deliberately minimal MQTT 3.1.1 client for load generation only: CONNECT
 * with credentials, QoS 1 PUBLISH with packet ids, PUBACK counting, PINGREQ;
 * or SUBSCRIBE + PUBACK for a counting subscriber. No reconnect, no session
 * store. mqtt.js spent ~80 µs of CPU per QoS 1 publish here (bench: pipeline),
 * so on this 2-core machine two mqtt.js load processes could not offer more
 * than ~20,000/s and the benchmark measured the load generator instead of
 * the service. Real sensors are separate devices; their CPU is not ours.
 * Packet layouts: MQTT 3.1.1 §3.3 (PUBLISH) here, the rest shared with the
 * ingest's subscriber (services/broker/mqtt-wire.ts).
 */

/** PUBLISH QoS 1 (fixed header 0x32) with packet id `id`. */
export function encodePublishQos1(topic: Buffer, id: number, payload: Buffer): Buffer {
  const remaining = 2 + topic.length + 2 + payload.length;
  const len = encodeLength(remaining);
  const out = Buffer.allocUnsafe(1 + len.length + remaining);
  let o = 0;
  out[o++] = 0x32;
  for (const b of len) out[o++] = b;
  out.writeUInt16BE(topic.length, o);
  o += 2;
  o += topic.copy(out, o);
  out.writeUInt16BE(id, o);
  o += 2;
  payload.copy(out, o);
  return out;
}

export interface LeanPublisher {
  readonly socket: Socket;
  inflight: number;
  acked: number;
  connected: boolean;
  /** Queue a QoS 1 publish; written with the others at the next `flush()`. */
  publish(payload: Buffer): void;
  /** Write everything queued since the last flush in one socket write. */
  flush(): void;
  end(): Promise<void>;
}

/**
 * Connect one sensor and resolve once CONNACK says accepted (return code 0,
 * §3.2.2.3); reject with the return code otherwise.
 */
export function connectLeanPublisher(o: {
  host: string; port: number; clientId: string; username: string; password: string; topic: string; clean?: boolean; keepaliveS?: number;
}): Promise<LeanPublisher> {
  const topic = Buffer.from(o.topic, 'utf8');
  const keepaliveS = o.keepaliveS ?? 60;
  return new Promise((resolve, reject) => {
    const socket = connect(o.port, o.host);
    socket.setNoDelay(true);
    let nextId = 1;
    let queued: Buffer[] = [];
    const pub: LeanPublisher = {
      socket,
      inflight: 0,
      acked: 0,
      connected: false,
      publish(payload) {
        queued.push(encodePublishQos1(topic, nextId, payload));
        nextId = nextId === 65535 ? 1 : nextId + 1;
        pub.inflight++;
      },
      flush() {
        if (queued.length === 0 || socket.destroyed) return;
        socket.write(queued.length === 1 ? (queued[0] as Buffer) : Buffer.concat(queued));
        queued = [];
      },
      end() {
        return new Promise((r) => {
          if (socket.destroyed) return r();
          socket.once('close', () => r());
          socket.end(DISCONNECT);
        });
      },
    };
    const ping = setInterval(() => socket.write(PINGREQ), (keepaliveS * 1000) / 2);
    ping.unref();
    socket.on('close', () => {
      pub.connected = false;
      clearInterval(ping);
    });
    socket.on('error', (err) => reject(err));
    socket.on('data', createPacketReader((header, body) => {
      const type = header >> 4;
      if (type === 2) {
        const code = body[1];
        if (code === 0) {
          pub.connected = true;
          resolve(pub);
        } else {
          socket.destroy();
          reject(new Error(`${o.clientId}: CONNACK return code ${code}`));
        }
      } else if (type === 4) {
        pub.inflight--;
        pub.acked++;
      }
    }));
    socket.once('connect', () => {
      socket.write(encodeConnect({ clientId: o.clientId, username: o.username, password: o.password, clean: o.clean ?? true, keepaliveS }));
    });
  });
}

/**
 * A counting QoS 1 subscriber (for raw broker ceilings): subscribes to
 * `filter`, acknowledges every QoS 1 PUBLISH, counts them.
 */
export function connectLeanSubscriber(o: {
  host: string; port: number; clientId: string; username?: string; password?: string; filter: string;
}): Promise<{ count(): number; end(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(o.port, o.host);
    socket.setNoDelay(true);
    let count = 0;
    const api = {
      count: () => count,
      end: () => new Promise<void>((r) => {
        if (socket.destroyed) return r();
        socket.once('close', () => r());
        socket.end(DISCONNECT);
      }),
    };
    socket.on('error', reject);
    let acks: number[] = [];
    const reader = createPacketReader((header, body) => {
      const type = header >> 4;
      if (type === 2) {
        if (body[1] !== 0) return reject(new Error(`subscriber: CONNACK return code ${body[1]}`));
        socket.write(encodeSubscribe(1, o.filter, 1));
      } else if (type === 9) {
        if (body[2] === 0x80) return reject(new Error(`subscriber: SUBACK refused ${o.filter}`));
        resolve(api);
      } else if (type === 3) {
        count++;
        const qos = (header >> 1) & 3;
        if (qos > 0) {
          const topicLen = body.readUInt16BE(0);
          const id = body.readUInt16BE(2 + topicLen);
          acks.push(id);
        }
      }
    });
    socket.on('data', (chunk: Buffer) => {
      reader(chunk);
      if (acks.length) {
        socket.write(encodePubacks(acks));
        acks = [];
      }
    });
    socket.once('connect', () => {
      socket.write(encodeConnect({
        clientId: o.clientId, clean: true, keepaliveS: 600,
        ...(o.username !== undefined && { username: o.username }),
        ...(o.password !== undefined && { password: o.password }),
      }));
    });
  });
}
