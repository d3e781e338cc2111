import { connect, type Socket } from 'node:net';

/**
 * A deliberately minimal MQTT 3.1.1 client for load generation only: CONNECT
 * with credentials, QoS 1 PUBLISH with packet ids, PUBACK counting, PINGREQ;
 * or SUBSCRIBE + PUBACK for a counting subscriber. No reconnect, no session
 * store. mqtt.js spent ~80 µs of CPU per QoS 1 publish here (bench: pipeline),
 * so on this 2-core machine two mqtt.js load processes could not offer more
 * than ~20,000/s and the benchmark measured the load generator instead of
 * the service. Real sensors are separate devices; their CPU is not ours.
 * Packet layouts: MQTT 3.1.1 §3.1 (CONNECT), §3.3 (PUBLISH), §3.4 (PUBACK),
 * §3.8 (SUBSCRIBE), §3.12 (PINGREQ).
 */

/** MQTT 3.1.1 §2.2.3 Remaining Length: 1–4 bytes, 7 bits each. */
function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, ...encodeLength(body.length)]), body]);
}

export function encodeConnect(o: { clientId: string; username?: string; password?: string; clean: boolean; keepaliveS: number }): Buffer {
  let flags = o.clean ? 0x02 : 0;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const keepalive = Buffer.from([o.keepaliveS >> 8, o.keepaliveS & 0xff]);
  const parts = [utf8Field('MQTT'), Buffer.from([4, flags]), keepalive, utf8Field(o.clientId)];
  if (o.username !== undefined) parts.push(utf8Field(o.username));
  if (o.password !== undefined) parts.push(utf8Field(o.password));
  return packet(0x10, Buffer.concat(parts));
}

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

const PINGREQ = Buffer.from([0xc0, 0x00]);

/**
 * Split a byte stream into MQTT packets; calls `onPacket(type, body)` for
 * each complete one. Bodies are views into the input (copy to keep).
 */
export function createPacketReader(onPacket: (header: number, body: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let i = 0;
    while (i < buf.length) {
      if (buf.length - i < 2) break;
      let len = 0;
      let mult = 1;
      let j = i + 1;
      let complete = false;
      for (; j < buf.length && j < i + 5; j++) {
        const byte = buf[j] as number;
        len += (byte & 0x7f) * mult;
        mult *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          j++;
          break;
        }
      }
      if (!complete || buf.length - j < len) break;
      onPacket(buf[i] as number, buf.subarray(j, j + len));
      i = j + len;
    }
    if (i < buf.length) pending = Buffer.from(buf.subarray(i));
    buf = Buffer.alloc(0);
  };
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
          socket.end(Buffer.from([0xe0, 0x00])); // DISCONNECT
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
        socket.end(Buffer.from([0xe0, 0x00]));
      }),
    };
    socket.on('error', reject);
    let acks: Buffer[] = [];
    const reader = createPacketReader((header, body) => {
      const type = header >> 4;
      if (type === 2) {
        if (body[1] !== 0) return reject(new Error(`subscriber: CONNACK return code ${body[1]}`));
        const filter = utf8Field(o.filter);
        socket.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), filter, Buffer.from([1])])));
      } else if (type === 9) {
        if (body[2] === 0x80) return reject(new Error(`subscriber: SUBACK refused ${o.filter}`));
        resolve(api);
      } else if (type === 3) {
        count++;
        const qos = (header >> 1) & 3;
        if (qos > 0) {
          const topicLen = body.readUInt16BE(0);
          const id = body.readUInt16BE(2 + topicLen);
          acks.push(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
        }
      }
    });
    socket.on('data', (chunk: Buffer) => {
      reader(chunk);
      if (acks.length) {
        socket.write(Buffer.concat(acks));
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
