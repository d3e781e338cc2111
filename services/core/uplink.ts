import { findCodec, type CodecRefusal } from './codecs/index.ts';
import type { Sensor } from './sensor.ts';

/** Where an uplink came from: one label value per network-server adapter (issue 11). */
export const UPLINK_SOURCES = ['ttn-mqtt', 'ttn-webhook', 'chirpstack-mqtt', 'chirpstack-http'] as const;
export type UplinkSource = (typeof UPLINK_SOURCES)[number];

/**
 * `outcome` label values of `kansui_integration_uplinks_total`: stored,
 * a redelivery stored once, no sensor with that DevEUI, refused by the codec
 * or the reading checks, not a reading (another event, a configuration frame),
 * or a message that is not the network server's documented shape.
 */
export const UPLINK_OUTCOMES = ['accepted', 'duplicate', 'unknown_device', 'refused', 'ignored', 'invalid'] as const;
export type UplinkOutcome = (typeof UPLINK_OUTCOMES)[number];

/** One uplink as every network server's message is normalised to (TTN v3, ChirpStack v4). */
export interface Uplink {
  source: UplinkSource;
  /** 16 upper-case hex digits. */
  devEui: string;
  /** The network server's name for the device (TTN device id, ChirpStack device name), for logs. */
  deviceName?: string | undefined;
  /** Network server receive time, epoch ms (TTN `received_at`, ChirpStack `time`): the reading's time. */
  receivedAt: number;
  fPort?: number | undefined;
  /** LoRaWAN frame counter (FCntUp); 0 when the server omitted it. */
  fCnt: number;
  /** The server's id of this uplink (ChirpStack `deduplicationId`, TTN `as:up:` correlation id). */
  dedupId?: string | undefined;
  bytes: Uint8Array;
  /** The server's own decoded object, when a codec is configured there. */
  object?: unknown;
  /** Best gateway: highest RSSI, and its SNR. */
  rssiDbm?: number | undefined;
  snrDb?: number | undefined;
}

/** A gateway's reception of the uplink. */
export interface GatewayRx {
  rssi?: number | undefined;
  snr?: number | undefined;
}

/**
 * The best gateway: highest SNR decides (LoRa demodulates on SNR; RSSI alone
 * favours a near gateway drowned in noise), RSSI breaks ties.
 */
export function pickBestGateway(rx: readonly GatewayRx[] | undefined): { rssiDbm?: number; snrDb?: number } {
  let best: GatewayRx | undefined;
  for (const g of rx ?? []) {
    if (g.rssi === undefined && g.snr === undefined) continue;
    if (!best) best = g;
    else if ((g.snr ?? -Infinity) > (best.snr ?? -Infinity)) best = g;
    else if ((g.snr ?? -Infinity) === (best.snr ?? -Infinity) && (g.rssi ?? -Infinity) > (best.rssi ?? -Infinity)) best = g;
  }
  return { ...(best?.rssi !== undefined && { rssiDbm: best.rssi }), ...(best?.snr !== undefined && { snrDb: best.snr }) };
}

/** The native reading payload (docs/contract.md) an uplink becomes, ready for the one reading parser. */
export interface NativePayload {
  ts: number;
  level_cm?: number;
  distance_mm?: number;
  wet_cm?: number[];
  battery_v?: number;
  battery_pct?: number;
  rssi_dbm?: number;
  snr_db?: number;
  seq?: number;
}

export type UplinkDecision =
  | { kind: 'reading'; payload: NativePayload }
  | { kind: 'ignored'; detail: string }
  | { kind: 'refused'; reason: CodecRefusal; detail: string; batteryPct?: number; batteryV?: number };

/**
 * Decode an uplink with the sensor's codec into a native payload, so a vendor
 * payload goes through the same validation, calibration (distance → depth,
 * minimum range, versioned zero), store and alerting as a native reading.
 * A tilted sensor or a no-target code is refused with its own reason and
 * never becomes 0 cm.
 */
export function decideUplink(uplink: Uplink, sensor: Sensor): UplinkDecision {
  const codec = findCodec(sensor.codec ?? (uplink.object !== undefined ? 'json' : ''));
  if (!codec) return { kind: 'refused', reason: 'undecodable', detail: `sensor ${sensor.id} has no codec (register it with --codec)` };
  const decoded = codec.decode(
    { fPort: uplink.fPort, bytes: uplink.bytes, object: uplink.object },
    { json: sensor.jsonField },
  );
  if (!decoded.ok) return { kind: 'refused', reason: decoded.reason, detail: decoded.detail, ...decoded.battery };
  if (decoded.kind === 'not_a_reading') return { kind: 'ignored', detail: decoded.detail };
  const payload: NativePayload = { ts: uplink.receivedAt, seq: uplink.fCnt };
  if (decoded.distanceMm !== undefined) payload.distance_mm = decoded.distanceMm;
  else if (decoded.levelCm !== undefined) payload.level_cm = decoded.levelCm;
  else if (decoded.wetCm !== undefined) payload.wet_cm = decoded.wetCm;
  if (decoded.batteryV !== undefined) payload.battery_v = decoded.batteryV;
  if (decoded.batteryPct !== undefined) payload.battery_pct = decoded.batteryPct;
  if (uplink.rssiDbm !== undefined) payload.rssi_dbm = uplink.rssiDbm;
  if (uplink.snrDb !== undefined) payload.snr_db = uplink.snrDb;
  return { kind: 'reading', payload };
}

/** Key under which a redelivered uplink is recognised: the server's id when it has one, else frame counter and receive time. */
export function uplinkKey(u: Pick<Uplink, 'devEui' | 'fCnt' | 'dedupId' | 'receivedAt'>): string {
  return u.dedupId !== undefined ? `${u.devEui}/${u.dedupId}` : `${u.devEui}/${u.fCnt}/${u.receivedAt}`;
}
