import { z } from 'zod';
import { SensorId } from '../sensor.ts';
import { formatIso } from '../time.ts';
import type { Trend } from '../trend.ts';
import type { Alert, AlertEventType, AlertKind, AlertSensor } from './alert.ts';
import { AlertKindSchema } from './alert.ts';
import { markReminder } from './reminder.ts';
import { AlertSeveritySchema, labelLevel, PLAN_HIGH_WATER_LABEL, rankLevel, type AlertSettings, type AlertSeverity } from './policy.ts';
import { ALERT_KIND_WORDS, RIVER_FLOOD_WORDS, STATUS_WORDS } from '../words.ts';

export const ChannelKindSchema = z.enum(['webhook', 'line', 'email', 'webpush']);
export type ChannelKind = z.infer<typeof ChannelKindSchema>;

/** Sensors a recipient follows: ids, or `['*']` for all. */
export const SensorSelectionSchema = z.union([z.tuple([z.literal('*')]), z.array(SensorId).min(1).max(500)]);

/** A push subscription as `PushSubscription.toJSON()` gives it (W3C Push API §3.4). */
export const PushSubscriptionSchema = z.object({
  endpoint: z.url({ protocol: /^https?$/ }).max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/).min(80).max(100),
    auth: z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/).min(16).max(32),
  }),
});
export type PushSubscriptionJson = z.infer<typeof PushSubscriptionSchema>;

/** Who gets which alerts over which channel. */
export interface Recipient {
  id: string;
  channel: ChannelKind;
  /** Channel address: webhook URL, LINE user/group id, e-mail address, or push endpoint. */
  target: string;
  /** Web Push only: the subscription keys. */
  subscription?: PushSubscriptionJson;
  sensors: string[];
  minSeverity: AlertSeverity;
  kinds: AlertKind[];
  lang: 'ja' | 'en';
  /** Where it came from: environment (read-only), staff via the API, a resident's browser, or a staff member's own preferences (issue 13). */
  source: 'env' | 'api' | 'resident' | 'user';
  label?: string;
  /** Webhook only: the HMAC-SHA256 key for `X-Kansui-Signature` (never shown by the API after creation). */
  secret?: string;
  /** Place names matched against a sensor's address, besides `sensors` (staff preferences, issue 13). */
  areas?: string[];
  /** No notices in these hours (city time) except 危険 (staff preferences, issue 13). */
  quietHours?: { start: string; end: string };
}

/** What staff may set when adding a recipient through the API. */
export const RecipientInputSchema = z
  .object({
    channel: z.enum(['webhook', 'line', 'email']),
    target: z.string().trim().min(1).max(2048),
    sensors: SensorSelectionSchema.default(['*']),
    min_severity: AlertSeveritySchema.default('caution'),
    kinds: z.array(AlertKindSchema).min(1).default(['flood', 'offline', 'low_battery', 'sensor_fault']),
    lang: z.enum(['ja', 'en']).default('ja'),
    label: z.string().trim().max(120).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const ok =
      r.channel === 'webhook'
        ? z.url({ protocol: /^https?$/ }).safeParse(r.target).success
        : r.channel === 'email'
          ? z.email().safeParse(r.target).success
          : /^[A-Za-z0-9]{1,64}$/.test(r.target);
    if (!ok) ctx.addIssue({ code: 'custom', path: ['target'], message: `not a valid ${r.channel} target` });
  });
export type RecipientInput = z.infer<typeof RecipientInputSchema>;

/**
 * Whether an alert notice goes to a recipient: sensor selected (or in one of
 * its areas, by the sensor's address), kind followed, severity at least the
 * minimum. With areas, `['*']` means "every sensor in those areas".
 */
export function wantsNotice(
  r: Pick<Recipient, 'sensors' | 'minSeverity' | 'kinds' | 'areas'>,
  alert: Pick<Alert, 'sensorId' | 'kind' | 'peakSeverity'>,
  sensor?: { address?: string | undefined },
): boolean {
  // A 危険 reading during maintenance (issue 12) goes to whoever follows flooding.
  if (!r.kinds.includes(alert.kind) && !(alert.kind === 'maintenance_danger' && r.kinds.includes('flood'))) return false;
  if (rankLevel(alert.peakSeverity) < rankLevel(r.minSeverity)) return false;
  const inArea = !!r.areas?.length && !!sensor?.address && r.areas.some((a) => (sensor.address as string).includes(a));
  if (r.sensors[0] === '*') return !r.areas?.length || inArea;
  return r.sensors.includes(alert.sensorId) || inArea;
}

/** Message text in one language. */
export interface NoticeText {
  title: string;
  body: string;
}

/** One lifecycle event of one alert, as every channel receives it. */
export interface AlertNotice {
  /** Unique per (alert, event): receivers use it to drop duplicates after a retry. */
  noticeId: string;
  event: AlertEventType;
  alert: Alert;
  sensor: AlertSensor;
  levelName: { ja: string; en: string };
  text: { ja: NoticeText; en: NoticeText };
  /** Link to the public map at the sensor, when the base URL is known. */
  url?: string;
  /** Reminder number (1, 2, …) when this notice is a reminder of an unacknowledged alert (issue 13). */
  reminder?: number;
}

/** The outcome of one delivery attempt. */
export type DeliveryOutcome = { ok: true; status?: number; detail?: string } | { ok: false; status?: number; error: string; permanent: boolean };

/**
 * Port for a push channel (webhook, LINE, e-mail, Web Push). `send` makes ONE
 * attempt; retries, backoff, timeouts and the delivery log are the
 * dispatcher's job, so every adapter is judged by the same contract suite
 * (test/contract/alert-channel.contract.ts).
 */
export interface AlertChannel {
  readonly kind: ChannelKind;
  send(notice: AlertNotice, recipient: Recipient, signal: AbortSignal): Promise<DeliveryOutcome>;
  /**
   * Recipients this channel may send to: a chance to do costly per-recipient
   * work before an alert needs it (Web Push prepares its RFC 8291 keys).
   * Called at start and when recipients are added; never blocks sending.
   */
  prepare?(recipients: readonly Recipient[]): void;
  /** A recipient is gone: drop whatever `prepare` kept for it. */
  forget?(recipient: Recipient): void;
  /** What `prepare` holds ready (Web Push: keys), for /metrics. */
  preparedCount?(): number;
  close?(): Promise<void>;
}

// The words come from the one catalogue (services/core/words.ts, issue 16).
const SEVERITY_JA = (s: AlertSeverity): string => STATUS_WORDS[s].ja;
const SEVERITY_EN = (s: AlertSeverity): string => STATUS_WORDS[s].en;
const KIND_JA = (k: AlertKind): string => ALERT_KIND_WORDS[k].ja;
const KIND_EN = (k: AlertKind): string => ALERT_KIND_WORDS[k].en;

/**
 * Compose the notice for an alert event: Japanese and English text, level
 * names from the sensor's preset. Pure; times in `timeZone`.
 */
export function composeNotice(input: {
  event: AlertEventType;
  alert: Alert;
  sensor: AlertSensor;
  settings?: AlertSettings;
  timeZone: string;
  baseUrl?: string;
  /** Reminder n of an unacknowledged alert: marked 【再通知】/[Reminder] in every channel. */
  reminder?: number;
  /** Issue 12: the sensor's trend (services/core/trend.ts) at this event; a line with the time to the next level when known. */
  trend?: Trend | undefined;
}): AlertNotice {
  const { event, alert, sensor, timeZone } = input;
  // Issue 12: a river gauge speaks of MLIT's stages (氾濫注意水位 …) and metres, whatever preset its alert settings name.
  const river = sensor.site === 'river';
  const level = labelLevel(alert.severity, river && input.settings?.preset !== 'river_channel' ? { ...input.settings, preset: 'river_channel' } : input.settings);
  const levelName = alert.kind === 'flood' ? level : ALERT_KIND_WORDS[alert.kind];
  const nameJa = sensor.name;
  const nameEn = sensor.nameEn ?? sensor.name;
  const when = formatIso(alert.observedAt ?? alert.updatedAt, timeZone).replace(/\.\d{3}/, '');
  const depth = alert.levelCm === undefined ? '' : river ? formatStageM(alert.levelCm) : `${alert.levelCm} cm`;
  // 冠水 (flooding) is a road's word; a river gauge's alert is about high water (増水).
  const kindJa = (k: AlertKind) => (river && k === 'flood' ? RIVER_FLOOD_WORDS.ja : KIND_JA(k));
  const kindEn = (k: AlertKind) => (river && k === 'flood' ? RIVER_FLOOD_WORDS.en : KIND_EN(k));
  const rise = alert.rising ? { ja: '（急上昇中）', en: ' (rising fast)' } : { ja: '', en: '' };
  const url = input.baseUrl ? `${input.baseUrl.replace(/\/$/, '')}/?sensor=${encodeURIComponent(sensor.id)}` : undefined;

  let ja: NoticeText;
  let en: NoticeText;
  if (event === 'resolved') {
    ja = { title: `【解除】${nameJa}（${kindJa(alert.kind)}）`, body: `${nameJa} の${kindJa(alert.kind)}の警報は解除されました。` };
    en = { title: `[All clear] ${nameEn} (${kindEn(alert.kind).toLowerCase()})`, body: `The ${kindEn(alert.kind).toLowerCase()} alert for ${nameEn} has ended.` };
  } else if (alert.kind === 'flood') {
    const verbJa = event === 'escalated' ? 'に上がりました' : 'に達しました';
    const verbEn = event === 'escalated' ? 'rose to' : 'reached';
    const cause = alert.cause === 'rate_of_rise';
    ja = {
      title: `【${river ? levelName.ja : SEVERITY_JA(alert.severity)}】${nameJa} ${depth}`,
      body: cause
        ? `${nameJa} の水位が急上昇しています${depth ? `（${depth}）` : ''}。`
        : `${nameJa} の水位が${levelName.ja}${verbJa}：${depth}${rise.ja}。`,
    };
    en = {
      title: `[${river ? levelName.en.toUpperCase() : alert.severity.toUpperCase()}] ${nameEn} ${depth}`,
      body: cause
        ? `Water at ${nameEn} is rising fast${depth ? ` (${depth})` : ''}.`
        : `Water at ${nameEn} ${verbEn} ${levelName.en}: ${depth}${rise.en}.`,
    };
    // Issue 12: a river gauge's 計画高水位 (design high-water level), where set, is named when the water is at or above it.
    const hwl = river ? sensor.thresholds.planHighWater : undefined;
    if (hwl !== undefined && alert.levelCm !== undefined && alert.levelCm >= hwl) {
      ja.body += `計画高水位（${formatStageM(hwl)}）以上です。堤防の設計の想定を超える水位です。`;
      en.body += ` At or above the design high-water level (${formatStageM(hwl)}), beyond what the levees are built for.`;
    }
  } else if (alert.kind === 'maintenance_danger') {
    // Issue 12: the map shows 点検中, but staff must still hear of a 危険 reading and decide whether it is the work or the water.
    ja = { title: `【${KIND_JA(alert.kind)}】${nameJa} ${depth}`, body: `点検中の ${nameJa} のセンサーが危険の水位（${depth}）を測りました。点検作業によるものか、実際の${river ? RIVER_FLOOD_WORDS.ja : ALERT_KIND_WORDS.flood.ja}か確認してください。` };
    en = { title: `[${KIND_EN(alert.kind)}] ${nameEn} ${depth}`, body: `The sensor at ${nameEn}, in maintenance, measured a danger level (${depth}). Check whether it is the maintenance work or real flooding.` };
  } else if (alert.kind === 'sensor_fault') {
    // Issue 11: the device itself says its distance is not the water. Not a level, and not a road closure.
    const tilt = alert.cause === 'tilt';
    ja = { title: `【${KIND_JA(alert.kind)}】${nameJa}`, body: `${nameJa} のセンサー：${tilt ? '傾きを検知しました。水面を測れていません' : '測定対象を検知できません（反射なし）'}。点検してください。` };
    en = { title: `[${KIND_EN(alert.kind)}] ${nameEn}`, body: `Sensor at ${nameEn}: ${tilt ? 'tilted, not measuring the water' : 'no target (no echo)'}. Please inspect it.` };
  } else {
    ja = { title: `【${KIND_JA(alert.kind)}】${nameJa}`, body: `${nameJa} のセンサー：${KIND_JA(alert.kind)}。` };
    en = { title: `[${KIND_EN(alert.kind)}] ${nameEn}`, body: `Sensor at ${nameEn}: ${KIND_EN(alert.kind).toLowerCase()}.` };
  }
  if (input.trend && event !== 'resolved') {
    ja.body += `\n${describeTrend('ja', input.trend, sensor, input.settings)}`;
    en.body += `\n${describeTrend('en', input.trend, sensor, input.settings)}`;
  }
  ja.body += `\n観測時刻 ${when}`;
  en.body += `\nObserved ${when}`;
  if (url) {
    ja.body += `\n${url}`;
    en.body += `\n${url}`;
  }
  const reminder = input.reminder;
  return {
    noticeId: reminder !== undefined ? `${alert.id}:reminder:${reminder}` : `${alert.id}:${event}:${alert.updatedAt}`,
    event,
    alert,
    sensor,
    levelName,
    text: reminder !== undefined ? markReminder({ ja, en }, reminder) : { ja, en },
    ...(url && { url }),
    ...(reminder !== undefined && { reminder }),
  };
}

/**
 * An alert's fields as every JSON consumer sees them (API, SSE, webhook body,
 * Web Push payload): snake_case, ISO 8601 times with offset in `timeZone`.
 * Who acknowledged is added by the API for signed-in staff only.
 */
export function alertFields(a: Alert, levelName: { ja: string; en: string }, timeZone: string) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : formatIso(ms, timeZone));
  return {
    id: a.id,
    sensor_id: a.sensorId,
    kind: a.kind,
    severity: a.severity,
    peak_severity: a.peakSeverity,
    cause: a.cause,
    state: a.state,
    rising: a.rising,
    level_name: levelName.ja,
    level_name_en: levelName.en,
    level_cm: a.levelCm ?? null,
    observed_at: iso(a.observedAt),
    battery_v: a.batteryV ?? null,
    raised_at: iso(a.raisedAt),
    updated_at: iso(a.updatedAt),
    resolved_at: iso(a.resolvedAt),
    resolved_reason: a.resolvedReason ?? null,
  };
}

/** The JSON every machine receiver gets (webhook body, Web Push payload): snake_case like the API. */
export function noticeToJson(n: AlertNotice, timeZone: string) {
  return {
    notice_id: n.noticeId,
    event: n.event,
    alert: alertFields(n.alert, n.levelName, timeZone),
    sensor: { id: n.sensor.id, name: n.sensor.name, name_en: n.sensor.nameEn ?? null, lat: n.sensor.lat, lon: n.sensor.lon },
    text: n.text,
    url: n.url ?? null,
    ...(n.reminder !== undefined && { reminder: n.reminder }),
  };
}

/** A river stage in metres with two decimals (issue 12), as 川の防災情報 shows it: 380 → "3.80 m", −35 → "−0.35 m". */
export function formatStageM(levelCm: number): string {
  const m = (Math.abs(levelCm) / 100).toFixed(2);
  return `${levelCm < 0 && m !== '0.00' ? '−' : ''}${m} m`;
}

/**
 * The trend line of a notice (issue 12), in the map's words: "傾向：上昇中（毎時 60 cm）、危険（30 cm）まで約8分",
 * for a river "傾向：上昇中（毎時 0.40 m）、氾濫危険水位まで約15分". The time only when the core gives one.
 */
export function describeTrend(lang: 'ja' | 'en', t: Trend, sensor: AlertSensor, settings?: AlertSettings): string {
  const river = sensor.site === 'river';
  if (t.direction === 'steady') return lang === 'ja' ? '傾向：横ばい' : 'Trend: steady';
  const abs = Math.abs(t.rateCmPerH);
  const rate = river ? `${(abs / 100).toFixed(2)} m` : `${abs} cm`;
  if (t.direction === 'falling') return lang === 'ja' ? `傾向：下降中（毎時 ${rate}）` : `Trend: falling (${rate}/h)`;
  let next = '';
  if (t.nextLevel && t.etaS !== undefined) {
    const min = Math.round(t.etaS / 60);
    const time = lang === 'ja' ? (min < 60 ? `${min}分` : `${Math.floor(min / 60)}時間${min % 60 ? `${min % 60}分` : ''}`) : min < 60 ? `${min} min` : `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
    const nl = t.nextLevel;
    // Above 氾濫危険水位 a river gauge's next level is its 計画高水位, where set (issue 12); a road has none.
    const label = nl === 'planHighWater' ? PLAN_HIGH_WATER_LABEL
      : river ? labelLevel(nl, { ...settings, preset: 'river_channel' })
      : { ja: `${SEVERITY_JA(nl)}（${sensor.thresholds[nl]} cm）`, en: `${SEVERITY_EN(nl)} (${sensor.thresholds[nl]} cm)` };
    next = lang === 'ja' ? `、${label.ja}まで約${time}` : `; ${label.en} in about ${time}`;
  }
  return lang === 'ja' ? `傾向：上昇中（毎時 ${rate}）${next}` : `Trend: rising (${rate}/h)${next}`;
}
