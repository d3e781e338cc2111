import { type Codec, type CodecInput, type DecodeResult, type Measurement, isNoTargetCode, readUInt16LE, refuse, toHex } from './codec.ts';

/**
 * Milesight EM500-UDL and EM310-UDL (ultrasonic distance): a sequence of
 * channel records `id(1) type(1) data(n)`, little-endian. Layout and test
 * vectors from Milesight's own decoders, github.com/Milesight-IoT/SensorDecoders
 * at e79c9d8: em-series/em500-udl/em500-udl-decoder.js and README.md,
 * em-series/em310-udl/em310-udl-decoder.js and README.md.
 *
 * - `01 75` battery, UInt8 %
 * - `03 82` distance, UInt16LE mm
 * - `04 00` position, UInt8: 0 normal, 1 tilt (EM310-UDL)
 * - `83 E9` distance alarm (EM500-UDL): distance UInt16LE, mutation UInt16LE, alarm UInt8.
 *   Milesight's decoder divides both 16-bit values by 10 (0.1 × raw); we do the same so
 *   kansui shows what the vendor's codec in TTN or ChirpStack shows for the same frame.
 * - `20 CE` history record (timestamp UInt32LE + distance): not a live reading, skipped.
 * - `FF xx` / `FE xx`: device attributes and downlink answers, skipped.
 */
const RECORD_LENGTH: Record<string, number> = {
  'ff01': 1, 'ff09': 2, 'ff0a': 2, 'ffff': 2, 'ff16': 8, 'ff0f': 1, 'fffe': 1, 'ff0b': 1,
  '0175': 1, '0382': 2, '0400': 1, '83e9': 5, '20ce': 6,
};

function key(id: number, type: number): string {
  return id.toString(16).padStart(2, '0') + type.toString(16).padStart(2, '0');
}

function decodeMilesight(input: CodecInput): DecodeResult {
  const { bytes } = input;
  const m: Measurement = {};
  let tilted = false;
  let rawDistance: number | undefined;
  for (let i = 0; i < bytes.length; ) {
    if (i + 2 > bytes.length) return refuse('undecodable', `truncated record at byte ${i}: ${toHex(bytes)}`);
    const id = bytes[i] as number;
    const type = bytes[i + 1] as number;
    const k = key(id, type);
    const length = RECORD_LENGTH[k];
    if (length === undefined) {
      // An unknown record: its length is unknown, so nothing after it can be read safely.
      if (id === 0xff || id === 0xfe) break; // downlink answers (settings): not measurements
      return refuse('undecodable', `unknown channel ${k.toUpperCase()} at byte ${i}: ${toHex(bytes)}`);
    }
    const at = i + 2;
    if (at + length > bytes.length) return refuse('undecodable', `record ${k.toUpperCase()} truncated: ${toHex(bytes)}`);
    if (k === '0175') m.batteryPct = bytes[at] as number;
    else if (k === '0382') rawDistance = readUInt16LE(bytes, at);
    else if (k === '0400') tilted = bytes[at] === 1;
    else if (k === '83e9') rawDistance = readUInt16LE(bytes, at) / 10;
    i = at + length;
  }
  const battery = { ...(m.batteryPct !== undefined && { batteryPct: m.batteryPct }) };
  if (tilted) return refuse('tilt', 'position: tilt (04 00 01): the sensor is not looking at the water', battery);
  if (rawDistance === undefined) {
    return m.batteryPct !== undefined || bytes.length > 0
      ? { ok: true, kind: 'not_a_reading', detail: `no distance record in ${toHex(bytes)}` }
      : refuse('undecodable', 'empty payload');
  }
  if (isNoTargetCode(rawDistance)) return refuse('no_target', `distance code 0x${rawDistance.toString(16).toUpperCase()}`, battery);
  return { ok: true, kind: 'measurement', ...m, distanceMm: rawDistance };
}

export const milesightEm500Udl: Codec = { name: 'milesight-em500-udl', decode: decodeMilesight };
export const milesightEm310Udl: Codec = { name: 'milesight-em310-udl', decode: decodeMilesight };
