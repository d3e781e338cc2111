/**
 * Reads the MQTT fixed header of every packet in a byte stream — the packet
 * type byte, then the Remaining Length, a variable byte integer of 1 to 4
 * bytes (MQTT 3.1.1 §2.2.3) — and skips each body without keeping it. Fed
 * the bytes of one connection in order, it says as soon as a packet
 * *declares* more than `maxRemainingLength`, before its body has arrived,
 * so the caller can drop the connection before anything buffers it.
 *
 * Pure: no I/O; O(1) memory per connection.
 */
export type FrameVerdict =
  | { ok: true }
  | { ok: false; reason: 'packet_too_large'; declared: number }
  | { ok: false; reason: 'malformed_length' };

export interface FrameWatcher {
  /** Feed the next bytes; once a verdict is not ok, later calls return it again. */
  feed(chunk: Uint8Array): FrameVerdict;
}

const OK: FrameVerdict = { ok: true };

export function createFrameWatcher(maxRemainingLength: number): FrameWatcher {
  // 'type': expecting a packet's first byte; 'length': inside the Remaining
  // Length varint; 'body': skipping `skip` more bytes of the current packet.
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let skip = 0;
  let failed: FrameVerdict | undefined;

  return {
    feed(chunk) {
      if (failed) return failed;
      let i = 0;
      while (i < chunk.length) {
        if (state === 'body') {
          const n = Math.min(skip, chunk.length - i);
          skip -= n;
          i += n;
          if (skip === 0) state = 'type';
          continue;
        }
        const byte = chunk[i++] as number;
        if (state === 'type') {
          state = 'length';
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
          continue;
        }
        // §2.2.3: 7 bits per byte, least significant first; bit 7 = more bytes follow; at most 4 bytes.
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (length > maxRemainingLength) return (failed = { ok: false, reason: 'packet_too_large', declared: length });
        if (byte & 0x80) {
          if (lengthBytes === 4) return (failed = { ok: false, reason: 'malformed_length' });
          continue;
        }
        skip = length;
        state = skip === 0 ? 'type' : 'body';
      }
      return OK;
    },
  };
}
