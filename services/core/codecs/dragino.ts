import { type Codec, type CodecInput, type DecodeResult, isNoTargetCode, readUInt16BE, refuse, toHex } from './codec.ts';

/**
 * Dragino LDDS75 and LDDS20 (ultrasonic distance), fPort 2, big-endian,
 * 8 bytes: battery mV (2, & 0x3FFF), distance mm (2), interrupt flag (1),
 * DS18B20 temperature (2, signed, /10 °C), sensor flag (1). Layout from
 * Dragino's decoders, github.com/dragino/dragino-end-node-decoder at e81cc58:
 * LDDS75/LDDS75_Decoder_V1.1.4.js and LDDS20/LDDS20_Decoder_V1.1.4.js.
 *
 * Dragino's LDDS75 / LDDS20 manuals: a distance of 0 means the probe is not
 * detected or saw no echo, and sensor flag 0 means no ultrasonic probe is
 * connected. Both are `no_target`, never "water at the sensor".
 * Measuring range (datasheets): LDDS75 280–7500 mm, LDDS20 20–2000 mm.
 */
function createDragino(name: string, maxRangeMm: number): Codec {
  return {
    name,
    decode(input: CodecInput): DecodeResult {
      const { bytes, fPort } = input;
      if (fPort !== undefined && fPort !== 2) return { ok: true, kind: 'not_a_reading', detail: `fPort ${fPort} (readings are on fPort 2)` };
      if (bytes.length < 8) return refuse('undecodable', `${bytes.length} bytes, expected 8: ${toHex(bytes)}`);
      const batteryV = (readUInt16BE(bytes, 0) & 0x3fff) / 1000;
      const distance = readUInt16BE(bytes, 2);
      let t = readUInt16BE(bytes, 5);
      if (t & 0x8000) t -= 0x10000;
      const sensorFlag = bytes[7] as number;
      const battery = { batteryV };
      if (sensorFlag === 0) return refuse('no_target', 'sensor flag 0: no ultrasonic probe detected', battery);
      if (distance === 0 || isNoTargetCode(distance)) return refuse('no_target', `distance code 0x${distance.toString(16).toUpperCase()}`, battery);
      if (distance > maxRangeMm) return refuse('distance_out_of_range', `distance ${distance} mm beyond the ${maxRangeMm} mm range`, battery);
      return { ok: true, kind: 'measurement', batteryV, distanceMm: distance, temperatureC: t / 10 };
    },
  };
}

export const draginoLdds75 = createDragino('dragino-ldds75', 7500);
export const draginoLdds20 = createDragino('dragino-ldds20', 2000);
