/**
 * Reads the MQTT fixed header of every packet in a byte stream — the packet
 * type byte, then the Remaining Length, a variable byte integer of 1 to 4
 * bytes (MQTT 3.1.1 §2.2.3) — and skips each body without keeping it. Fed
 * the bytes of one connection in order, it says as soon as a packet
 * *declares* more than `maxRemainingLength`, before its body has arrived,
 * so the caller can drop the connection before anything buffers it.
 *
 * Pure: no I/O; a few numbers of state per connection (one per socket of
 * the embedded broker, so it is a small class rather than closures).
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
// Where the watcher is: at a packet's first byte, inside its Remaining Length, or skipping its body.
const TYPE = 0;
const LENGTH = 1;
const BODY = 2;

class Watcher implements FrameWatcher {
  private state = TYPE;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private skip = 0;
  private failed: FrameVerdict | undefined = undefined;

  constructor(private readonly max: number) {}

  feed(chunk: Uint8Array): FrameVerdict {
    if (this.failed) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === BODY) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.state = TYPE;
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === TYPE) {
        this.state = LENGTH;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // §2.2.3: 7 bits per byte, least significant first; bit 7 = more bytes follow; at most 4 bytes.
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (this.length > this.max) return (this.failed = { ok: false, reason: 'packet_too_large', declared: this.length });
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return (this.failed = { ok: false, reason: 'malformed_length' });
        continue;
      }
      this.skip = this.length;
      this.state = this.skip === 0 ? TYPE : BODY;
    }
    return OK;
  }
}

export function createFrameWatcher(maxRemainingLength: number): FrameWatcher {
  return new Watcher(maxRemainingLength);
}
