import { z } from 'zod';
import { DevEui } from '../core/sensor.ts';
import { pickBestGateway, type Uplink, type UplinkSource } from '../core/uplink.ts';

/**
 * The network servers' uplink messages as documented, validated with zod and
 * normalised to one `Uplink` (issue 11). Both servers omit fields at their
 * default value (protobuf JSON: 0, "", false), so every number is optional
 * and absent means its default.
 *
 * The Things Stack v3: https://www.thethingsindustries.com/docs/integrations/data-formats/
 * ("Uplink Messages"); the same JSON on MQTT `v3/{username}/devices/{id}/up` and in webhooks.
 * ChirpStack v4: https://www.chirpstack.io/docs/chirpstack/integrations/events.html
 * (`up` event, JSON encoding); the same JSON on MQTT and HTTP (`?event=up`).
 */

const Rx = z.object({ rssi: z.number().optional(), channel_rssi: z.number().optional(), snr: z.number().optional() }).passthrough();

export const TtnUplinkSchema = z.object({
  end_device_ids: z.object({
    device_id: z.string().max(36).optional(),
    dev_eui: DevEui,
    application_ids: z.object({ application_id: z.string().optional() }).passthrough().optional(),
  }).passthrough(),
  correlation_ids: z.array(z.string()).optional(),
  received_at: z.iso.datetime({ offset: true, local: false }).optional(),
  uplink_message: z.object({
    f_port: z.number().int().min(0).max(255).optional(),
    f_cnt: z.number().int().min(0).optional(),
    frm_payload: z.base64().optional(),
    decoded_payload: z.record(z.string(), z.unknown()).optional(),
    rx_metadata: z.array(Rx).optional(),
    received_at: z.iso.datetime({ offset: true }).optional(),
  }).passthrough(),
}).passthrough();

const ChirpstackDeviceInfo = z.object({
  devEui: DevEui,
  deviceName: z.string().optional(),
  applicationId: z.string().optional(),
}).passthrough();

export const ChirpstackUpSchema = z.object({
  deduplicationId: z.string().max(64).optional(),
  time: z.iso.datetime({ offset: true }).optional(),
  deviceInfo: ChirpstackDeviceInfo,
  fPort: z.number().int().min(0).max(255).optional(),
  fCnt: z.number().int().min(0).optional(),
  data: z.base64().optional(),
  object: z.record(z.string(), z.unknown()).optional(),
  rxInfo: z.array(z.object({ rssi: z.number().optional(), snr: z.number().optional() }).passthrough()).optional(),
}).passthrough();

/** ChirpStack v4 `status` event: the device's answer to DevStatusReq (LoRaWAN 1.0.x §5.5). */
export const ChirpstackStatusSchema = z.object({
  deviceInfo: ChirpstackDeviceInfo,
  time: z.iso.datetime({ offset: true }).optional(),
  batteryLevel: z.number().min(0).max(100).optional(),
  batteryLevelUnavailable: z.boolean().optional(),
  externalPowerSource: z.boolean().optional(),
}).passthrough();

export type MessageResult = { ok: true; uplink: Uplink } | { ok: false; detail: string };

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid';
}

/** Date.parse keeps milliseconds of ChirpStack's nanosecond times ("…15.775023242+00:00"). */
function parseTime(iso: string | undefined, now: number): number {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : now;
}

const fromBase64 = (s: string | undefined) => (s ? new Uint8Array(Buffer.from(s, 'base64')) : new Uint8Array());

/** A TTN v3 uplink message (MQTT or webhook) → Uplink. `received_at` is the Application Server's receive time. */
export function parseTtnUplink(json: unknown, source: UplinkSource, now: number): MessageResult {
  const parsed = TtnUplinkSchema.safeParse(json);
  if (!parsed.success) return { ok: false, detail: firstIssue(parsed.error) };
  const m = parsed.data;
  const up = m.uplink_message;
  return {
    ok: true,
    uplink: {
      source,
      devEui: m.end_device_ids.dev_eui,
      deviceName: m.end_device_ids.device_id,
      receivedAt: parseTime(m.received_at ?? up.received_at, now),
      fPort: up.f_port ?? 0,
      fCnt: up.f_cnt ?? 0,
      dedupId: m.correlation_ids?.find((c) => c.startsWith('as:up:')),
      bytes: fromBase64(up.frm_payload),
      ...(up.decoded_payload !== undefined && { object: up.decoded_payload }),
      ...pickBestGateway(up.rx_metadata?.map((g) => ({ rssi: g.rssi ?? g.channel_rssi, snr: g.snr }))),
    },
  };
}

/** A ChirpStack v4 `up` event (MQTT or HTTP, JSON) → Uplink. `time` is the gateway/server receive time. */
export function parseChirpstackUp(json: unknown, source: UplinkSource, now: number): MessageResult {
  const parsed = ChirpstackUpSchema.safeParse(json);
  if (!parsed.success) return { ok: false, detail: firstIssue(parsed.error) };
  const m = parsed.data;
  return {
    ok: true,
    uplink: {
      source,
      devEui: m.deviceInfo.devEui,
      deviceName: m.deviceInfo.deviceName,
      receivedAt: parseTime(m.time, now),
      fPort: m.fPort ?? 0,
      fCnt: m.fCnt ?? 0,
      dedupId: m.deduplicationId,
      bytes: fromBase64(m.data),
      ...(m.object !== undefined && { object: m.object }),
      ...pickBestGateway(m.rxInfo),
    },
  };
}
