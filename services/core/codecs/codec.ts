/**
 * What a LoRaWAN payload codec turns an uplink into (issue 11). Codecs are
 * pure: bytes (or the network server's decoded object) in, a measurement or
 * a named refusal out. Distance → depth is NOT done here: the reading path
 * applies the sensor's calibration (services/core/calibration.ts) so a vendor
 * payload and a native reading are calibrated the same way.
 */
export interface CodecInput {
  /** LoRaWAN FPort; absent when the network server omitted it (TTN omits 0). */
  fPort?: number | undefined;
  /** FRMPayload after decryption; empty when the frame carried none. */
  bytes: Uint8Array;
  /** The network server's own decoded object (TTN `decoded_payload`, ChirpStack `object`). */
  object?: unknown;
}

/** Which field of a network-server-decoded object holds the measurement (the `json` codec). */
export interface JsonFieldOption {
  /** `wet_cm`: an array of the wet detection heights (a stage sensor behind a network server). */
  quantity: 'distance_mm' | 'level_cm' | 'wet_cm';
  /** Dotted path into the object, e.g. `distance` or `data.level`. */
  path: string;
}

export interface CodecOptions {
  json?: JsonFieldOption | undefined;
}

/**
 * A refusal a codec can make. `tilt` and `no_target` are sensor-health
 * faults (the device says its measurement is not the water), never a level.
 */
export type CodecRefusal = 'tilt' | 'no_target' | 'distance_out_of_range' | 'undecodable';

export interface Measurement {
  distanceMm?: number;
  levelCm?: number;
  wetCm?: number[];
  batteryPct?: number;
  batteryV?: number;
  temperatureC?: number;
}

export type DecodeResult =
  | ({ ok: true; kind: 'measurement' } & Measurement)
  /** A frame that is not a reading (configuration, status, another port): accepted and not stored. */
  | { ok: true; kind: 'not_a_reading'; detail: string }
  | { ok: false; reason: CodecRefusal; detail: string; battery?: Pick<Measurement, 'batteryPct' | 'batteryV'> };

export interface Codec {
  readonly name: string;
  decode(input: CodecInput, options?: CodecOptions): DecodeResult;
}

/** Two hex digits a byte, for error details. */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ').toUpperCase();
}

export function readUInt16LE(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
}

export function readUInt16BE(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

export function refuse(reason: CodecRefusal, detail: string, battery?: Pick<Measurement, 'batteryPct' | 'batteryV'>): DecodeResult {
  return battery && (battery.batteryPct !== undefined || battery.batteryV !== undefined)
    ? { ok: false, reason, detail, battery }
    : { ok: false, reason, detail };
}

/**
 * Codes ultrasonic sensors put in the distance field instead of a distance:
 * 0xFFFF / 0xFFFE / 0xFFFD are used across vendors for "no echo / out of
 * range / sensor error" (issue 11: e.g. 0xFFFD). Never a distance of 65 m.
 */
export function isNoTargetCode(raw: number): boolean {
  return raw >= 0xfffd;
}
