import type { Alert, AlertEventType } from '../core/alerts/alert.ts';
import { composeNotice } from '../core/alerts/channel.ts';
import { PRESETS, type AlertSettings, type AlertSeverity } from '../core/alerts/policy.ts';
import { CLOSURE_LABEL, type Closure } from '../core/closure.ts';
import type { Sensor } from '../core/sensor.ts';
import { formatIso } from '../core/time.ts';
import { esc as escapeMarkup } from '../core/words.ts';

export interface FeedContext {
  /** Public base URL (PUBLIC_URL or the request's origin, services/api/client-info.ts), e.g. `https://kansui.city.example`. */
  baseUrl: string;
  timeZone: string;
  now: number;
  sensorOf: (id: string) => Sensor | undefined;
  settingsOf: (id: string) => AlertSettings;
  /** Road closures set by city staff (issue 13): the one in force at a sensor, and all in force. */
  closureOf?: (sensorId: string) => Closure | undefined;
  closures?: () => readonly Closure[];
}

/** The one markup escape (web/shared/messages.js, issue 16), after dropping what XML 1.0 cannot hold. */
function esc(s: string): string {
  // Control characters other than tab/CR/LF are not allowed in XML 1.0 (§2.2).
  return escapeMarkup(s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ''));
}

/** CAP 1.2 dateTime: no fractional seconds, explicit offset (CAP-v1.2 §3.3.2, the XSD's pattern). */
function capTime(ms: number, timeZone: string): string {
  return formatIso(ms, timeZone).replace(/\.\d{3}/, '');
}

/**
 * CAP <severity> for our levels (CAP-v1.2 §3.2.2): danger (30 cm on a road,
 * 氾濫危険水位 on a river) is a significant threat to life → Severe; warning
 * → Moderate; caution → Minor. Extreme is left for what a single level
 * sensor cannot judge (e.g. levee failure).
 */
const CAP_SEVERITY: Record<AlertSeverity, string> = { danger: 'Severe', warning: 'Moderate', caution: 'Minor' };
/** CAP <responseType>: avoid the flooded road or area at warning and above; monitor at caution. */
const CAP_RESPONSE: Record<AlertSeverity, string> = { danger: 'Avoid', warning: 'Avoid', caution: 'Monitor' };

const EVENT = {
  road_underpass: { ja: '道路冠水', en: 'Road flooding' },
  river_channel: { ja: '河川水位', en: 'River water level' },
} as const;
const INSTRUCTION = {
  ja: { danger: '冠水箇所に進入しないでください。', warning: '冠水箇所を避けて通行してください。', caution: '今後の水位に注意してください。' },
  en: { danger: 'Do not enter the flooded area.', warning: 'Avoid the flooded area.', caution: 'Watch for rising water.' },
} as const;
const ALL_CLEAR_INSTRUCTION = {
  ja: '警報は解除されました。路面の状況に注意して通行してください。',
  en: 'The alert has ended. Take care on the road.',
} as const;
/** Issue 12: a river gauge's instructions speak of the river and the city's evacuation information, not of a flooded road. */
const RIVER_INSTRUCTION = {
  ja: { danger: '川に近づかないでください。市の避難情報を確認してください。', warning: '避難の準備をしてください。川に近づかないでください。', caution: '今後の川の水位に注意してください。' },
  en: { danger: 'Stay away from the river. Check the city\'s evacuation information.', warning: 'Get ready to evacuate. Stay away from the river.', caution: 'Watch the river level.' },
} as const;
const RIVER_ALL_CLEAR_INSTRUCTION = {
  ja: '警報は解除されました。川の水位には引き続き注意してください。',
  en: 'The alert has ended. Keep an eye on the river level.',
} as const;

/**
 * How long a resolved alert stays in the Atom feed: long enough for an
 * aggregator that polls a few times a day to fetch its Cancel message.
 */
export const FEED_KEEPS_RESOLVED_MS = 24 * 60 * 60 * 1000;

/**
 * Timeline events that change what the public is told, each one CAP
 * message. An acknowledgement is staff business: it changes nothing in the
 * message, so it makes no new one.
 */
const PUBLIC_CHANGES: ReadonlySet<AlertEventType> = new Set(['raised', 'escalated', 'eased', 'updated', 'resolved']);

export interface CapMessageHead {
  identifier: string;
  /** When the change was stored (the alert timeline), so the same on every fetch. */
  sent: number;
  msgType: 'Alert' | 'Update' | 'Cancel';
}

/**
 * The CAP messages of one alert, oldest first: one per public change in its
 * stored timeline. The first is an `Alert`, later changes are `Update`s and
 * the resolution a `Cancel` (CAP-v1.2 §3.2.1 msgType; the alert is over).
 * Identifiers are `kansui-<alert id>-<n>`: unique per message, no spaces or
 * commas (§3.2.1 identifier), and the same every time they are computed.
 */
export function capMessages(alert: Pick<Alert, 'id' | 'raisedAt'>, events: readonly { type: AlertEventType; at: number }[]): CapMessageHead[] {
  const changes = events.filter((e) => PUBLIC_CHANGES.has(e.type));
  if (changes.length === 0) changes.push({ type: 'raised', at: alert.raisedAt });
  return changes.map((e, i) => ({
    identifier: `kansui-${alert.id}-${i + 1}`,
    sent: e.at,
    msgType: i === 0 ? 'Alert' : e.type === 'resolved' ? 'Cancel' : 'Update',
  }));
}

/** `kansui@<public host>`: the CAP sender (§3.2.1: no spaces, commas or restricted characters). */
function capSender(ctx: FeedContext): string {
  return `kansui@${new URL(ctx.baseUrl).hostname}`;
}

function capInfos(alert: Alert, ctx: FeedContext): string[] {
  const sensor = ctx.sensorOf(alert.sensorId);
  if (!sensor) return [];
  const settings = ctx.settingsOf(alert.sensorId);
  // Issue 12: the sensor's site decides the event and the words (a river gauge is never "road flooding").
  const kind = sensor.site === 'river' ? 'river_channel' : settings.preset;
  const preset = PRESETS[kind];
  const river = kind === 'river_channel';
  // A resolved alert's message is an all clear: no threat left, no action needed (CAP-v1.2 §3.2.2 responseType AllClear, urgency Past).
  const over = alert.state === 'resolved';
  const notice = composeNotice({ event: over ? 'resolved' : 'raised', alert, sensor, settings, timeZone: ctx.timeZone, baseUrl: ctx.baseUrl });
  const closure = over ? undefined : ctx.closureOf?.(alert.sensorId);
  const infos: string[] = [];
  for (const lang of ['ja', 'en'] as const) {
    const area = lang === 'ja' ? sensor.name : (sensor.nameEn ?? sensor.name);
    const parts = [
      `<language>${lang === 'ja' ? 'ja-JP' : 'en-US'}</language>`,
      `<category>Met</category>`,
      kind === 'road_underpass' ? `<category>Transport</category>` : '',
      `<event>${esc(EVENT[kind][lang])}</event>`,
      `<responseType>${over ? 'AllClear' : CAP_RESPONSE[alert.severity]}</responseType>`,
      `<urgency>${over ? 'Past' : 'Immediate'}</urgency>`,
      `<severity>${over ? 'Minor' : CAP_SEVERITY[alert.severity]}</severity>`,
      `<certainty>Observed</certainty>`,
      `<eventCode><valueName>kansui:severity</valueName><value>${alert.severity}</value></eventCode>`,
      `<effective>${capTime(alert.raisedAt, ctx.timeZone)}</effective>`,
      `<senderName>kansui</senderName>`,
      `<headline>${esc(notice.text[lang].title)}</headline>`,
      `<description>${esc(notice.text[lang].body)}</description>`,
      `<instruction>${esc(over ? (river ? RIVER_ALL_CLEAR_INSTRUCTION : ALL_CLEAR_INSTRUCTION)[lang] : (river ? RIVER_INSTRUCTION : INSTRUCTION)[lang][alert.severity])}</instruction>`,
      `<web>${esc(`${ctx.baseUrl}/?sensor=${encodeURIComponent(sensor.id)}`)}</web>`,
      `<parameter><valueName>sensor_id</valueName><value>${esc(sensor.id)}</value></parameter>`,
      `<parameter><valueName>level_name</valueName><value>${esc(notice.levelName[lang])}</value></parameter>`,
      alert.levelCm !== undefined ? `<parameter><valueName>level_cm</valueName><value>${alert.levelCm}</value></parameter>` : '',
      alert.observedAt !== undefined ? `<parameter><valueName>observed_at</valueName><value>${capTime(alert.observedAt, ctx.timeZone)}</value></parameter>` : '',
      closure ? `<parameter><valueName>road_closure</valueName><value>${esc(`${CLOSURE_LABEL[lang]}: ${closure.reason}`)}</value></parameter>` : '',
      // CAP <circle>: "lat,lon radius" with the radius in km (CAP-v1.2 §3.2.4), WGS 84.
      `<area><areaDesc>${esc(area)}</areaDesc><circle>${sensor.lat},${sensor.lon} ${preset.radiusKm}</circle></area>`,
    ];
    infos.push(`  <info>\n    ${parts.filter(Boolean).join('\n    ')}\n  </info>`);
  }
  return infos;
}

/**
 * A road closed by city staff (issue 13) as CAP <info> in Japanese and
 * English: a decision by the road administrator, so sender name and text say
 * the city set it, apart from what the sensor measures (CAP-v1.2 §3.2.2:
 * category Transport, responseType Avoid, certainty Observed).
 */
/**
 * Around a drawn segment's points, CAP <circle>s of 50 m: a road's width with
 * margin, so the area is the closed road, not the neighbourhood (CAP-v1.2
 * §3.2.4 allows several circles in one <area>).
 */
const SEGMENT_RADIUS_KM = 0.05;

/** Where a closure is, in both languages, as a CAP area and a map link. */
function closurePlace(c: Closure, ctx: FeedContext): { ja: string; en: string; circles: string[]; link: string; sensorId: string | undefined } | undefined {
  if (c.segment) {
    return { ja: c.segment.name, en: c.segment.name, circles: c.segment.path.map(([lon, lat]) => `${lat},${lon} ${SEGMENT_RADIUS_KM}`), link: `${ctx.baseUrl}/`, sensorId: undefined };
  }
  const sensor = c.sensorId === undefined ? undefined : ctx.sensorOf(c.sensorId);
  if (!sensor) return undefined;
  return {
    ja: sensor.name,
    en: sensor.nameEn ?? sensor.name,
    circles: [`${sensor.lat},${sensor.lon} ${PRESETS[ctx.settingsOf(sensor.id).preset].radiusKm}`],
    link: `${ctx.baseUrl}/?sensor=${encodeURIComponent(sensor.id)}`,
    sensorId: sensor.id,
  };
}

function closureInfos(c: Closure, ctx: FeedContext): string[] {
  const place = closurePlace(c, ctx);
  if (!place) return [];
  return (['ja', 'en'] as const).map((lang) => {
    const name = place[lang];
    const since = capTime(c.since, ctx.timeZone);
    const parts = [
      `<language>${lang === 'ja' ? 'ja-JP' : 'en-US'}</language>`,
      `<category>Transport</category>`,
      `<event>${lang === 'ja' ? '通行止め' : 'Road closure'}</event>`,
      `<responseType>Avoid</responseType>`,
      `<urgency>Immediate</urgency>`,
      `<severity>Moderate</severity>`,
      `<certainty>Observed</certainty>`,
      `<eventCode><valueName>kansui:closure</valueName><value>closed</value></eventCode>`,
      `<effective>${since}</effective>`,
      `<senderName>${lang === 'ja' ? '市（道路管理者）' : 'The city (road administrator)'}</senderName>`,
      `<headline>${esc(lang === 'ja' ? `【通行止め】${name}` : `[Road closed] ${name}`)}</headline>`,
      `<description>${esc(lang === 'ja' ? `${name} は市が通行止めにしています（${since} から）。理由：${c.reason}` : `The city has closed the road at ${name} (since ${since}). Reason: ${c.reason}`)}</description>`,
      `<instruction>${esc(lang === 'ja' ? '通行しないでください。' : 'Do not use this road.')}</instruction>`,
      `<web>${esc(place.link)}</web>`,
      place.sensorId ? `<parameter><valueName>sensor_id</valueName><value>${esc(place.sensorId)}</value></parameter>` : '',
      `<parameter><valueName>road_closure</valueName><value>${esc(`${CLOSURE_LABEL[lang]}: ${c.reason}`)}</value></parameter>`,
      `<area><areaDesc>${esc(name)}</areaDesc>${place.circles.map((x) => `<circle>${x}</circle>`).join('')}</area>`,
    ].filter(Boolean);
    return `  <info>\n    ${parts.join('\n    ')}\n  </info>`;
  });
}

function capDocument(head: CapMessageHead & { references?: string; note?: string }, infos: string[], ctx: FeedContext): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">',
    `  <identifier>${esc(head.identifier)}</identifier>`,
    `  <sender>${esc(capSender(ctx))}</sender>`,
    `  <sent>${capTime(head.sent, ctx.timeZone)}</sent>`,
    '  <status>Actual</status>',
    `  <msgType>${head.msgType}</msgType>`,
    '  <scope>Public</scope>',
    ...(head.note ? [`  <note>${esc(head.note)}</note>`] : []),
    ...(head.references ? [`  <references>${esc(head.references)}</references>`] : []),
    ...infos,
    '</alert>',
    '',
  ].join('\n');
}

/** Public flood alerts only: sensor health (offline, battery) is for staff, not a public hazard. */
export function publicAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => a.kind === 'flood');
}

/**
 * All active flood alerts as one CAP 1.2 message: for each alert one <info>
 * in Japanese and one in English, each with a circle around the sensor.
 * With no active alert the message has no <info> and says so in <note>.
 */
export function renderActiveCap(alerts: readonly Alert[], ctx: FeedContext): string {
  const list = publicAlerts(alerts);
  const closures = ctx.closures?.() ?? [];
  // Sent when the newest alert or closure last changed, so two fetches of one state are one message (same identifier, same sent).
  const sent = Math.max(list.reduce((m, a) => Math.max(m, a.updatedAt), 0), closures.reduce((m, c) => Math.max(m, c.since), 0)) || ctx.now;
  return capDocument(
    {
      identifier: `kansui-active-${sent.toString(36)}-${list.length}${closures.length ? `-c${closures.length}` : ''}`,
      sent,
      msgType: 'Alert',
      ...(list.length === 0 && closures.length === 0 && { note: '現在、発表中の水位の警報はありません。 / No active water-level alerts.' }),
    },
    [...list.flatMap((a) => capInfos(a, ctx)), ...closures.flatMap((c) => closureInfos(c, ctx))],
    ctx,
  );
}

/**
 * The latest CAP message of one alert (see `capMessages`): an Update or
 * Cancel lists every earlier message of the alert in <references> as
 * `sender,identifier,sent`, separated by spaces (CAP-v1.2 §3.2.1), so an
 * aggregator can replace or withdraw what it showed.
 *
 * @example
 * renderAlertCap(alert, store.events(alert.id), ctx) // raised, escalated, resolved → Cancel referencing the Alert and the Update
 */
export function renderAlertCap(alert: Alert, events: readonly { type: AlertEventType; at: number }[], ctx: FeedContext): string {
  const messages = capMessages(alert, events);
  const latest = messages.at(-1) as CapMessageHead;
  const sender = capSender(ctx);
  const references = messages
    .slice(0, -1)
    .map((m) => `${sender},${m.identifier},${capTime(m.sent, ctx.timeZone)}`)
    .join(' ');
  return capDocument({ ...latest, ...(references && { references }) }, capInfos(alert, ctx), ctx);
}

/**
 * Atom (RFC 4287) feed of flood alerts, active and lately resolved
 * (`FEED_KEEPS_RESOLVED_MS`), each entry linking to the alert's latest CAP
 * message; an entry's <id> stays the same for the life of the alert and its
 * <updated> moves with each change.
 */
export function renderAtom(alerts: readonly Alert[], ctx: FeedContext): string {
  const list = publicAlerts(alerts);
  const iso = (ms: number) => formatIso(ms, ctx.timeZone);
  const host = new URL(ctx.baseUrl).host;
  const updated = Math.max(list.reduce((m, a) => Math.max(m, a.updatedAt), 0), (ctx.closures?.() ?? []).reduce((m, c) => Math.max(m, c.since), 0)) || ctx.now;
  const entries = list.map((a) => {
    const sensor = ctx.sensorOf(a.sensorId);
    if (!sensor) return '';
    const over = a.state === 'resolved';
    const n = composeNotice({ event: over ? 'resolved' : 'raised', alert: a, sensor, settings: ctx.settingsOf(a.sensorId), timeZone: ctx.timeZone, baseUrl: ctx.baseUrl });
    return [
      '  <entry>',
      `    <id>urn:kansui:${esc(host)}:alert:${esc(a.id)}</id>`,
      `    <title>${esc(`${n.text.ja.title} / ${n.text.en.title}`)}</title>`,
      `    <published>${iso(a.raisedAt)}</published>`,
      `    <updated>${iso(a.updatedAt)}</updated>`,
      over ? '    <category term="resolved" label="解除 / All clear"/>' : `    <category term="${a.severity}" label="${esc(n.levelName.ja)} / ${esc(n.levelName.en)}"/>`,
      `    <summary>${esc(`${n.text.ja.body}\n\n${n.text.en.body}`)}</summary>`,
      `    <link rel="alternate" type="application/cap+xml" href="${esc(`${ctx.baseUrl}/api/alerts/${encodeURIComponent(a.id)}/cap`)}"/>`,
      `    <link rel="related" type="text/html" href="${esc(`${ctx.baseUrl}/?sensor=${encodeURIComponent(a.sensorId)}`)}"/>`,
      '  </entry>',
    ].join('\n');
  });
  // Road closures set by the city (issue 13): one entry each while in force, said to be the city's decision.
  for (const c of ctx.closures?.() ?? []) {
    const place = closurePlace(c, ctx);
    if (!place) continue;
    const sensor = { name: place.ja };
    const nameEn = place.en;
    entries.push(
      [
        '  <entry>',
        `    <id>urn:kansui:${esc(host)}:closure:${esc(c.id)}</id>`,
        `    <title>${esc(`【通行止め】${sensor.name} / [Road closed] ${nameEn}`)}</title>`,
        `    <published>${iso(c.since)}</published>`,
        `    <updated>${iso(c.since)}</updated>`,
        `    <category term="road_closure" label="${esc(`${CLOSURE_LABEL.ja} / ${CLOSURE_LABEL.en}`)}"/>`,
        `    <summary>${esc(`${sensor.name} は市が通行止めにしています。理由：${c.reason}\n\nThe city has closed the road at ${nameEn}. Reason: ${c.reason}`)}</summary>`,
        `    <link rel="related" type="text/html" href="${esc(place.link)}"/>`,
        '  </entry>',
      ].join('\n'),
    );
  }
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">',
    `  <id>urn:kansui:${esc(host)}:alerts</id>`,
    // One feed for road sensors (冠水) and river gauges (増水): named for what both measure.
    '  <title>kansui 水位の警報 / Water-level alerts</title>',
    `  <updated>${iso(updated)}</updated>`,
    '  <author><name>kansui</name></author>',
    `  <link rel="self" type="application/atom+xml" href="${esc(`${ctx.baseUrl}/api/alerts.atom`)}"/>`,
    `  <link rel="alternate" type="application/cap+xml" href="${esc(`${ctx.baseUrl}/api/alerts.cap`)}"/>`,
    ...entries.filter(Boolean),
    '</feed>',
    '',
  ].join('\n');
}
