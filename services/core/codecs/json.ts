import type { Codec, CodecInput, CodecOptions, DecodeResult } from './codec.ts';
import { refuse } from './codec.ts';

/** `a.b.c` into nested objects; arrays by index (`rx.0.rssi`). */
function pick(object: unknown, path: string): unknown {
  let v: unknown = object;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * A number, or a string of one with an optional unit: vendors' ChirpStack
 * codecs print units (Dragino's LDDS75 v4 codec says `"2799 mm"`).
 */
function toNumber(v: unknown, unit: 'mm' | 'cm' | 'V' | '%'): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = new RegExp(`^\\s*(-?\\d+(?:\\.\\d+)?)\\s*(?:${unit})?\\s*$`).exec(v);
  return m ? Number(m[1]) : undefined;
}

const BATTERY_PCT = ['battery', 'battery_pct', 'batteryLevel', 'Bat_pct'];
const BATTERY_V = ['battery_v', 'Bat', 'BatV', 'bat_v'];

/**
 * The network server already decoded the payload (TTN `decoded_payload`,
 * ChirpStack `object`); the sensor's registration says which field holds the
 * distance in mm or the level in cm. Battery is picked up from common names.
 */
function decodeJson(input: CodecInput, options?: CodecOptions): DecodeResult {
  const field = options?.json;
  if (!field) return refuse('undecodable', 'json codec without a field (register the sensor with --json-field distance_mm=PATH or level_cm=PATH)');
  if (input.object === undefined || input.object === null || typeof input.object !== 'object') {
    return refuse('undecodable', 'no decoded object: configure a payload formatter (TTN) or codec (ChirpStack) for this device');
  }
  const raw = pick(input.object, field.path);
  if (raw === undefined) return { ok: true, kind: 'not_a_reading', detail: `no field ${field.path} in the decoded object` };
  if (field.quantity === 'wet_cm') {
    const wet = Array.isArray(raw) ? raw.map((v) => toNumber(v, 'cm')) : undefined;
    if (!wet || wet.length > 16 || wet.some((v) => v === undefined)) return refuse('undecodable', `${field.path}: not a list of heights in cm`);
    return { ok: true, kind: 'measurement', wetCm: wet as number[] };
  }
  const value = toNumber(raw, field.quantity === 'distance_mm' ? 'mm' : 'cm');
  if (value === undefined) return refuse('undecodable', `${field.path}: not a number: ${JSON.stringify(raw).slice(0, 40)}`);
  const o = input.object as Record<string, unknown>;
  const pct = BATTERY_PCT.map((k) => toNumber(o[k], '%')).find((x) => x !== undefined && x >= 0 && x <= 100);
  const volts = BATTERY_V.map((k) => toNumber(o[k], 'V')).find((x) => x !== undefined && x > 0 && x < 60);
  const battery = { ...(pct !== undefined && { batteryPct: pct }), ...(volts !== undefined && { batteryV: volts }) };
  if (field.quantity === 'distance_mm') {
    if (value >= 0xfffd) return refuse('no_target', `${field.path} ${value}`, battery);
    return { ok: true, kind: 'measurement', ...battery, distanceMm: value };
  }
  return { ok: true, kind: 'measurement', ...battery, levelCm: value };
}

export const json: Codec = { name: 'json', decode: decodeJson };
