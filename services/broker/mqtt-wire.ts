/**
 * The few MQTT 3.1.1 packets kansui's own clients write and read, encoded and
 * decoded by hand: the ingest's subscriber (external-subscriber.ts) and the
 * simulator's load generator (firmware-sim/lean-mqtt.ts). Why not mqtt-packet:
 * its parser copies every chunk through a BufferList and builds a generic
 * packet object per message, and on the ingest's path that cost, with mqtt.js
 * around it, was most of the CPU per reading (bench: ingest). Section numbers
 * are MQTT 3.1.1 (OASIS Standard, 29 October 2014).
 */

/** Control packet types, §2.2.1 (the fixed header's high nibble). */
export const PACKET = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBSCRIBE: 8, SUBACK: 9, UNSUBSCRIBE: 10, UNSUBACK: 11, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14 } as const;

/** §2.2.3 Remaining Length: 1–4 bytes, 7 bits each, least significant first. */
export function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** §1.5.3 UTF-8 encoded string: a two-byte length, then the bytes. */
function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte, ...encodeLength(body.length)]), body]);
}

/** §3.1 CONNECT, protocol level 4 (3.1.1). `clean: false` keeps the session and its queue [MQTT-3.1.2-4]. */
export function encodeConnect(o: { clientId: string; username?: string; password?: string; clean: boolean; keepaliveS: number }): Buffer {
  let flags = o.clean ? 0x02 : 0;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const parts = [utf8Field('MQTT'), Buffer.from([4, flags, o.keepaliveS >> 8, o.keepaliveS & 0xff]), utf8Field(o.clientId)];
  if (o.username !== undefined) parts.push(utf8Field(o.username));
  if (o.password !== undefined) parts.push(utf8Field(o.password));
  return packet(0x10, Buffer.concat(parts));
}

/** §3.8 SUBSCRIBE one filter at `qos` (fixed header 0x82: reserved flags 0010, §3.8.1). */
export function encodeSubscribe(id: number, filter: string, qos: 0 | 1): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), utf8Field(filter), Buffer.from([qos])]));
}

/** §3.10 UNSUBSCRIBE one filter (fixed header 0xa2, §3.10.1). */
export function encodeUnsubscribe(id: number, filter: string): Buffer {
  return packet(0xa2, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), utf8Field(filter)]));
}

/** §3.4 PUBACK for each packet id, in the order given, as one buffer (one socket write). */
export function encodePubacks(ids: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    out[4 * i] = 0x40;
    out[4 * i + 1] = 0x02;
    out[4 * i + 2] = id >> 8;
    out[4 * i + 3] = id & 0xff;
  }
  return out;
}

/** §3.12 PINGREQ. */
export const PINGREQ = Buffer.from([0xc0, 0x00]);
/** §3.14 DISCONNECT. */
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** §3.2.2.3 CONNACK return codes, for messages. */
export const CONNACK_REFUSED: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/**
 * Split a byte stream into MQTT packets; calls `onPacket(firstByte, body)` for
 * each complete one. A body is a view into the input, valid only during the
 * call (copy to keep). A packet split across chunks is joined once, when its
 * last byte has arrived (chunks are kept in a list meanwhile, so a large
 * packet costs linear time). Throws on a malformed Remaining Length (§2.2.3:
 * at most four bytes); the caller then drops the connection.
 */
export function createPacketReader(onPacket: (firstByte: number, body: Buffer) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let partsLength = 0;
  /** Bytes needed before `parts` hold the packet at their start (0: not known yet). */
  let need = 0;
  return (chunk) => {
    let buf = chunk;
    if (partsLength > 0) {
      parts.push(chunk);
      partsLength += chunk.length;
      if (need > 0 && partsLength < need) return;
      buf = Buffer.concat(parts, partsLength);
      parts = [];
      partsLength = 0;
    }
    need = 0;
    let i = 0;
    while (buf.length - i >= 2) {
      let len = 0;
      let mult = 1;
      let j = i + 1;
      let complete = false;
      for (; j < buf.length; j++) {
        if (j > i + 4) throw new Error('malformed MQTT Remaining Length (more than 4 bytes)');
        const byte = buf[j] as number;
        len += (byte & 0x7f) * mult;
        mult *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          j++;
          break;
        }
      }
      if (!complete) break;
      if (buf.length - j < len) {
        need = j - i + len;
        break;
      }
      onPacket(buf[i] as number, buf.subarray(j, j + len));
      i = j + len;
    }
    if (i < buf.length) {
      // Keep the rest (a copy: the caller may reuse its chunk).
      const rest = Buffer.from(buf.subarray(i));
      parts = [rest];
      partsLength = rest.length;
    }
  };
}

/** A PUBLISH (§3.3) as the subscriber needs it: topic, QoS, packet id (QoS > 0) and payload (a view). */
export interface PublishView {
  topic: string;
  qos: number;
  id: number;
  payload: Buffer;
}

/** Decode a PUBLISH body; undefined when it is shorter than its own fields say. */
export function decodePublish(firstByte: number, body: Buffer): PublishView | undefined {
  const qos = (firstByte >> 1) & 3;
  if (body.length < 2) return undefined;
  const topicLength = body.readUInt16BE(0);
  let at = 2 + topicLength;
  if (body.length < at + (qos > 0 ? 2 : 0)) return undefined;
  const topic = body.toString('utf8', 2, at);
  let id = 0;
  if (qos > 0) {
    id = body.readUInt16BE(at);
    at += 2;
  }
  return { topic, qos, id, payload: body.subarray(at) };
}
