import type { Alert } from '../core/alerts/alert.ts';
import { composeNotice } from '../core/alerts/channel.ts';
import { PRESETS, type AlertSettings, type AlertSeverity } from '../core/alerts/policy.ts';
import type { Sensor } from '../core/sensor.ts';
import { formatIso } from '../core/time.ts';

export interface FeedContext {
  /** Origin the feed is served from, e.g. `https://kansui.city.example`. */
  baseUrl: string;
  timeZone: string;
  now: number;
  sensorOf: (id: string) => Sensor | undefined;
  settingsOf: (id: string) => AlertSettings;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
function esc(s: string): string {
  // Control characters other than tab/CR/LF are not allowed in XML 1.0 (§2.2).
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
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

function capInfos(alert: Alert, ctx: FeedContext): string[] {
  const sensor = ctx.sensorOf(alert.sensorId);
  if (!sensor) return [];
  const settings = ctx.settingsOf(alert.sensorId);
  const preset = PRESETS[settings.preset];
  const notice = composeNotice({ event: 'raised', alert, sensor, settings, timeZone: ctx.timeZone, baseUrl: ctx.baseUrl });
  const infos: string[] = [];
  for (const lang of ['ja', 'en'] as const) {
    const area = lang === 'ja' ? sensor.name : (sensor.nameEn ?? sensor.name);
    const parts = [
      `<language>${lang === 'ja' ? 'ja-JP' : 'en-US'}</language>`,
      `<category>Met</category>`,
      settings.preset === 'road_underpass' ? `<category>Transport</category>` : '',
      `<event>${esc(EVENT[settings.preset][lang])}</event>`,
      `<responseType>${CAP_RESPONSE[alert.severity]}</responseType>`,
      `<urgency>Immediate</urgency>`,
      `<severity>${CAP_SEVERITY[alert.severity]}</severity>`,
      `<certainty>Observed</certainty>`,
      `<eventCode><valueName>kansui:severity</valueName><value>${alert.severity}</value></eventCode>`,
      `<effective>${capTime(alert.raisedAt, ctx.timeZone)}</effective>`,
      `<senderName>kansui</senderName>`,
      `<headline>${esc(notice.text[lang].title)}</headline>`,
      `<description>${esc(notice.text[lang].body)}</description>`,
      `<instruction>${esc(INSTRUCTION[lang][alert.severity])}</instruction>`,
      `<web>${esc(`${ctx.baseUrl}/?sensor=${encodeURIComponent(sensor.id)}`)}</web>`,
      `<parameter><valueName>sensor_id</valueName><value>${esc(sensor.id)}</value></parameter>`,
      `<parameter><valueName>level_name</valueName><value>${esc(notice.levelName[lang])}</value></parameter>`,
      alert.levelCm !== undefined ? `<parameter><valueName>level_cm</valueName><value>${alert.levelCm}</value></parameter>` : '',
      alert.observedAt !== undefined ? `<parameter><valueName>observed_at</valueName><value>${capTime(alert.observedAt, ctx.timeZone)}</value></parameter>` : '',
      // CAP <circle>: "lat,lon radius" with the radius in km (CAP-v1.2 §3.2.4), WGS 84.
      `<area><areaDesc>${esc(area)}</areaDesc><circle>${sensor.lat},${sensor.lon} ${preset.radiusKm}</circle></area>`,
    ];
    infos.push(`  <info>\n    ${parts.filter(Boolean).join('\n    ')}\n  </info>`);
  }
  return infos;
}

function capDocument(head: { identifier: string; sent: number; msgType: 'Alert' | 'Update' | 'Cancel'; references?: string; note?: string }, infos: string[], ctx: FeedContext): string {
  const host = new URL(ctx.baseUrl).hostname;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">',
    `  <identifier>${esc(head.identifier)}</identifier>`,
    `  <sender>kansui@${esc(host)}</sender>`,
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
  const newest = list.reduce((m, a) => Math.max(m, a.updatedAt), 0);
  return capDocument(
    {
      identifier: `kansui-active-${(newest || ctx.now).toString(36)}-${list.length}`,
      sent: ctx.now,
      msgType: 'Alert',
      ...(list.length === 0 && { note: 'No active flood alerts. / 現在、冠水警報はありません。' }),
    },
    list.flatMap((a) => capInfos(a, ctx)),
    ctx,
  );
}

/** One alert as a CAP message: Alert when new, Update after a change, Cancel once resolved (CAP-v1.2 §3.2.1 msgType). */
export function renderAlertCap(alert: Alert, ctx: FeedContext): string {
  const msgType = alert.state === 'resolved' ? 'Cancel' : alert.updatedAt > alert.raisedAt ? 'Update' : 'Alert';
  return capDocument({ identifier: `kansui-${alert.id}-${alert.updatedAt.toString(36)}`, sent: alert.updatedAt, msgType }, capInfos(alert, ctx), ctx);
}

/** Atom (RFC 4287) feed of active flood alerts, each entry linking to its CAP message. */
export function renderAtom(alerts: readonly Alert[], ctx: FeedContext): string {
  const list = publicAlerts(alerts);
  const iso = (ms: number) => formatIso(ms, ctx.timeZone);
  const host = new URL(ctx.baseUrl).host;
  const updated = list.reduce((m, a) => Math.max(m, a.updatedAt), 0) || ctx.now;
  const entries = list.map((a) => {
    const sensor = ctx.sensorOf(a.sensorId);
    if (!sensor) return '';
    const n = composeNotice({ event: 'raised', alert: a, sensor, settings: ctx.settingsOf(a.sensorId), timeZone: ctx.timeZone, baseUrl: ctx.baseUrl });
    return [
      '  <entry>',
      `    <id>urn:kansui:${esc(host)}:alert:${esc(a.id)}</id>`,
      `    <title>${esc(`${n.text.ja.title} / ${n.text.en.title}`)}</title>`,
      `    <published>${iso(a.raisedAt)}</published>`,
      `    <updated>${iso(a.updatedAt)}</updated>`,
      `    <category term="${a.severity}" label="${esc(n.levelName.ja)} / ${esc(n.levelName.en)}"/>`,
      `    <summary>${esc(`${n.text.ja.body}\n\n${n.text.en.body}`)}</summary>`,
      `    <link rel="alternate" type="application/cap+xml" href="${esc(`${ctx.baseUrl}/api/alerts/${encodeURIComponent(a.id)}/cap`)}"/>`,
      `    <link rel="related" type="text/html" href="${esc(`${ctx.baseUrl}/?sensor=${encodeURIComponent(a.sensorId)}`)}"/>`,
      '  </entry>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">',
    `  <id>urn:kansui:${esc(host)}:alerts</id>`,
    '  <title>kansui 冠水警報 / Flood alerts</title>',
    `  <updated>${iso(updated)}</updated>`,
    '  <author><name>kansui</name></author>',
    `  <link rel="self" type="application/atom+xml" href="${esc(`${ctx.baseUrl}/api/alerts.atom`)}"/>`,
    `  <link rel="alternate" type="application/cap+xml" href="${esc(`${ctx.baseUrl}/api/alerts.cap`)}"/>`,
    ...entries.filter(Boolean),
    '</feed>',
    '',
  ].join('\n');
}
