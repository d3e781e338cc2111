import { z } from 'zod';
import { distanceToDepth } from './calibration.ts';
import { LIMITS } from './limits.ts';
import { levelRangeOf, type Sensor } from './sensor.ts';

/**
 * Why a reading was refused. These are the `reason` label values of
 * `kansui_readings_rejected_total` in /metrics and are part of the contract.
 */
export const REJECT_REASONS = [
  'payload_too_large',
  'malformed_json',
  'invalid_schema',
  'non_finite',
  'level_out_of_range',
  'ts_in_future',
  'ts_too_old',
  'below_min_range',
  'not_calibrated',
  'unknown_sensor',
  'sensor_retired',
  'topic_not_allowed',
  'unknown_topic',
  'rate_limited',
  // LoRaWAN devices behind a network server (issue 11):
  /** No sensor is registered with this DevEUI (never auto-created). */
  'unknown_device',
  /** The device reports it is tilted: the distance is not to the water. */
  'tilt',
  /** The device reports no echo / no probe / an error code instead of a distance. */
  'no_target',
  /** A distance beyond the device's measuring range. */
  'distance_out_of_range',
  /** The payload does not decode with the sensor's codec. */
  'undecodable',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** ISO 8601 with an explicit offset (Z or ±hh:mm), or epoch milliseconds. */
const Timestamp = z.union([
  z.iso.datetime({ offset: true }),
  z.number().int().positive().max(8.64e15),
]);

/**
 * The reading payload as published on `flood/{sensorId}/reading`
 * (docs/contract.md). Exactly one of `level_cm` and `distance_mm`.
 * Unknown keys are ignored so firmware can add fields without breaking.
 */
export const ReadingPayloadSchema = z
  .object({
    ts: Timestamp.optional(),
    level_cm: z.number().optional(),
    distance_mm: z.number().optional(),
    /** Stage sensors: the detection heights (cm) that are wet now, e.g. [10, 20]; [] when dry. */
    wet_cm: z.array(z.number()).max(16).optional(),
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    battery_v: z.number().min(0).max(LIMITS.maxBatteryV).optional(),
    rssi_dbm: z.number().min(LIMITS.minRssiDbm).max(LIMITS.maxRssiDbm).optional(),
    /** Battery as the device reports it in percent (LoRaWAN devices; issue 11), kept beside battery_v. */
    battery_pct: z.number().min(0).max(100).optional(),
    /** Signal-to-noise ratio (dB) of the best gateway (LoRa: about −20…+15 dB). */
    snr_db: z.number().min(-50).max(50).optional(),
  })
  .refine((p) => [p.level_cm, p.distance_mm, p.wet_cm].filter((v) => v !== undefined).length === 1, {
    message: 'exactly one of level_cm, distance_mm and wet_cm is required',
  });
export type ReadingPayload = z.infer<typeof ReadingPayloadSchema>;

/** A validated reading as stored. Times are epoch ms. */
export interface Reading {
  sensorId: string;
  /** Device time of the measurement (the payload's `ts`, or receipt time when absent). */
  observedAt: number;
  levelCm: number;
  distanceMm?: number;
  batteryV?: number;
  rssiDbm?: number;
  seq?: number;
  /** Battery in percent, as reported by devices that report it so (issue 11). */
  batteryPct?: number;
  /** SNR (dB) of the best gateway, for LoRaWAN devices. */
  snrDb?: number;
  /** Stage sensors: the wet detection heights (cm); levelCm is then the highest of them, a lower bound. */
  wetCm?: number[];
}

export type ParseResult = { ok: true; reading: Reading } | { ok: false; reason: RejectReason; detail: string };

function reject(reason: RejectReason, detail: string): ParseResult {
  return { ok: false, reason, detail };
}

/** Any non-finite number anywhere in a parsed JSON value (1e400 parses to Infinity). */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value && typeof value === 'object') return Object.values(value).some(hasNonFinite);
  return false;
}

/** ReadingPayloadSchema's number fields as [min, max, integer] (a Map: a JSON key such as `__proto__` is no field). */
const NUMBER_FIELDS: ReadonlyMap<string, readonly [min: number, max: number, integer: boolean]> = new Map([
  ['ts', [1, 8.64e15, true]],
  ['level_cm', [-Number.MAX_VALUE, Number.MAX_VALUE, false]],
  ['distance_mm', [-Number.MAX_VALUE, Number.MAX_VALUE, false]],
  ['seq', [0, Number.MAX_SAFE_INTEGER, true]],
  ['battery_v', [0, LIMITS.maxBatteryV, false]],
  ['rssi_dbm', [LIMITS.minRssiDbm, LIMITS.maxRssiDbm, false]],
  ['battery_pct', [0, 100, false]],
  ['snr_db', [-50, 50, false]],
]);

/**
 * The payload almost every sensor sends, checked without zod: an object whose
 * every key is a ReadingPayloadSchema field holding a finite number in that
 * field's range (`ts` as epoch ms), with exactly one of level_cm and
 * distance_mm. Anything else (an ISO `ts`, `wet_cm`, unknown keys, a wrong
 * value) returns undefined and goes through the schema, which words the
 * error. It accepts only what the schema accepts, with the same result
 * (test/unit/reading-fast-path.test.ts checks that on generated payloads);
 * it exists because the schema was the largest CPU cost per reading on the
 * ingest's path (bench: ingest, issue 15).
 */
export function readPlainPayload(json: unknown): ReadingPayload | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  let levels = 0;
  for (const key in json) {
    const range = NUMBER_FIELDS.get(key);
    const v = (json as Record<string, unknown>)[key];
    if (range === undefined || typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    if (v < range[0] || v > range[1] || (range[2] && !Number.isInteger(v))) return undefined;
    if (key === 'level_cm' || key === 'distance_mm') levels++;
  }
  return levels === 1 ? (json as ReadingPayload) : undefined;
}

/**
 * Turn raw MQTT payload bytes from a known sensor into a reading, or say why
 * not. Pure: the caller supplies the sensor and the clock.
 *
 * @example
 * const r = parseReading(Buffer.from('{"level_cm": 12}'), sensor, Date.now());
 * if (!r.ok) metrics.rejected(r.reason);
 */
export function parseReading(payload: Uint8Array, sensor: Sensor, now: number): ParseResult {
  if (payload.byteLength > LIMITS.maxPayloadBytes) {
    return reject('payload_too_large', `${payload.byteLength} bytes > ${LIMITS.maxPayloadBytes}`);
  }
  if (sensor.state === 'retired') return reject('sensor_retired', `sensor ${sensor.id} is retired`);
  let json: unknown;
  try {
    json = JSON.parse((Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)).toString('utf8'));
  } catch (err) {
    return reject('malformed_json', (err as Error).message);
  }
  let p = readPlainPayload(json);
  if (p === undefined) {
    if (hasNonFinite(json)) return reject('non_finite', 'a number is not finite');
    const parsed = ReadingPayloadSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reject('invalid_schema', issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid');
    }
    p = parsed.data;
  }

  const observedAt = p.ts === undefined ? now : typeof p.ts === 'number' ? p.ts : Date.parse(p.ts);
  if (observedAt > now + LIMITS.maxFutureSkewMs) return reject('ts_in_future', `ts is ${observedAt - now} ms ahead`);
  if (observedAt < now - LIMITS.maxAgeMs) return reject('ts_too_old', `ts is ${now - observedAt} ms old`);

  let levelCm: number;
  if ((sensor.kind === 'stage') !== (p.wet_cm !== undefined)) {
    return reject('invalid_schema', sensor.kind === 'stage' ? 'a stage sensor sends wet_cm' : 'wet_cm is for stage sensors');
  }
  if (p.wet_cm !== undefined) {
    const stages = sensor.stages ?? [];
    const unknown = p.wet_cm.find((cm) => !stages.includes(cm));
    if (unknown !== undefined) return reject('invalid_schema', `wet_cm: ${unknown} is not one of the stages ${stages.join(',')}`);
    // Water is at least as high as the highest wet stage; 0 when none is wet (below the lowest).
    levelCm = p.wet_cm.length === 0 ? 0 : Math.max(...p.wet_cm);
  } else if (p.distance_mm !== undefined) {
    if (p.distance_mm < 0 || p.distance_mm > LIMITS.maxDistanceMm) {
      return reject('level_out_of_range', `distance_mm ${p.distance_mm} outside 0–${LIMITS.maxDistanceMm}`);
    }
    const depth = distanceToDepth(p.distance_mm, sensor);
    if (!depth.ok) return reject(depth.reason, `distance_mm ${p.distance_mm}`);
    levelCm = depth.levelCm;
  } else {
    levelCm = p.level_cm as number;
  }
  // Issue 12: a river stage may be negative (below the gauge datum) or above 20 m; a road depth may not.
  const range = levelRangeOf(sensor.site);
  if (levelCm < range.minCm || levelCm > range.maxCm) {
    return reject('level_out_of_range', `level_cm ${levelCm} outside ${range.minCm}–${range.maxCm}`);
  }

  const reading: Reading = { sensorId: sensor.id, observedAt, levelCm };
  if (p.distance_mm !== undefined) reading.distanceMm = p.distance_mm;
  if (p.battery_v !== undefined) reading.batteryV = p.battery_v;
  if (p.rssi_dbm !== undefined) reading.rssiDbm = p.rssi_dbm;
  if (p.seq !== undefined) reading.seq = p.seq;
  if (p.battery_pct !== undefined) reading.batteryPct = p.battery_pct;
  if (p.snr_db !== undefined) reading.snrDb = p.snr_db;
  if (p.wet_cm !== undefined) reading.wetCm = [...p.wet_cm].sort((a, b) => a - b);
  return { ok: true, reading };
}
