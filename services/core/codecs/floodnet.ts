import { type Codec, type CodecInput, type DecodeResult, isNoTargetCode, readUInt16LE, refuse, toHex } from './codec.ts';

/**
 * NYC FloodNet's open flood sensor (github.com/floodnet-nyc/flood-sensor).
 * Current firmware, fPort 2, little-endian, 5 bytes: error flags (1),
 * battery mV (UInt16LE), distance mm (UInt16LE); error flags 0xFF mark a
 * configuration packet, not a reading (layout as given in issue 11). Any
 * other non-zero flag is a sensor error: no distance to trust (`no_target`).
 * Their first LoRa-E5 firmware (firmware/lora-e5/LoRaWAN/App/lora_app.c at
 * 1d0fa8d) sent only the distance, UInt16LE mm, 2 bytes on fPort 1: accepted too.
 */
function decodeFloodnet(input: CodecInput): DecodeResult {
  const { bytes, fPort } = input;
  if (fPort === 1 && bytes.length === 2) {
    const d = readUInt16LE(bytes, 0);
    return isNoTargetCode(d) || d === 0 ? refuse('no_target', `distance code 0x${d.toString(16).toUpperCase()}`) : { ok: true, kind: 'measurement', distanceMm: d };
  }
  if (fPort !== undefined && fPort !== 2) return { ok: true, kind: 'not_a_reading', detail: `fPort ${fPort} (readings are on fPort 2)` };
  if (bytes.length >= 1 && bytes[0] === 0xff) return { ok: true, kind: 'not_a_reading', detail: 'configuration packet (flags 0xFF)' };
  if (bytes.length < 5) return refuse('undecodable', `${bytes.length} bytes, expected 5: ${toHex(bytes)}`);
  const flags = bytes[0] as number;
  const batteryV = readUInt16LE(bytes, 1) / 1000;
  const distance = readUInt16LE(bytes, 3);
  if (flags !== 0) return refuse('no_target', `error flags 0x${flags.toString(16).padStart(2, '0').toUpperCase()}`, { batteryV });
  if (distance === 0 || isNoTargetCode(distance)) return refuse('no_target', `distance code 0x${distance.toString(16).toUpperCase()}`, { batteryV });
  return { ok: true, kind: 'measurement', batteryV, distanceMm: distance };
}

export const floodnet: Codec = { name: 'floodnet', decode: decodeFloodnet };
