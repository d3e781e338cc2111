import { z } from 'zod';
import { AlertSeveritySchema, type AlertSeverity } from './alerts/policy.ts';
import type { Sensor, Thresholds } from './sensor.ts';
import type { Trend, TrendDirection, TrendLevel } from './trend.ts';
import type { Status } from './status.ts';
import { RIVER_STAGE_WORDS, STATUS_WORDS, wordsIn } from './words.ts';

/**
 * Residents' LINE conversation (issue 14), pure: what a typed text or a
 * postback means, which sensors a query or a location matches, and the
 * messages kansui answers with, in Japanese or English. No I/O: the service
 * (services/line/) verifies the webhook, keeps state behind the
 * LineSubscriptionRepository port and talks to the LINE API.
 */

export const LineLangSchema = z.enum(['ja', 'en']);
export type LineLang = z.infer<typeof LineLangSchema>;

/** Minimum level when a resident subscribes without choosing one (issue 14: default 警戒). */
export const DEFAULT_LINE_MIN_LEVEL: AlertSeverity = 'warning';

export const LineSubscriptionSchema = z.object({
  userId: z.string().regex(/^U[0-9a-f]{32}$/),
  sensorId: z.string().min(1),
  minLevel: AlertSeveritySchema,
});
export type LineSubscription = z.infer<typeof LineSubscriptionSchema>;

/** A subscriber of one sensor, with the language to write to them in. */
export interface LineSubscriber {
  userId: string;
  minLevel: AlertSeverity;
  lang: LineLang;
}

/**
 * Port: what kansui keeps of a LINE resident: the user id, their language and
 * their subscriptions, never the profile (issue 14). Also the webhook event
 * ids already handled, so a redelivered event is handled once.
 * Adapters: services/storage/memory-line-subscriptions.ts and
 * sqlite-line-subscriptions.ts; contract: test/contract/line-subscriptions.contract.ts.
 */
export interface LineSubscriptionRepository {
  /** Remember a user (follow) or change their language; keeps subscriptions. */
  saveUser(userId: string, lang: LineLang, now: number): void;
  langOf(userId: string): LineLang | undefined;
  /** Add, or change the level of, one subscription. */
  subscribe(sub: LineSubscription, now: number): void;
  /** true when it existed. */
  unsubscribe(userId: string, sensorId: string): boolean;
  /** Subscriptions removed. */
  unsubscribeAll(userId: string): number;
  subscriptionsOf(userId: string): LineSubscription[];
  /** Everyone subscribed to a sensor, with their language. */
  subscribersOf(sensorId: string): LineSubscriber[];
  /** Unfollow: delete everything held for the user. */
  forgetUser(userId: string): void;
  /** Record a webhook event id; false when it was already recorded (a redelivery). Ids older than `keepMs` may be pruned. */
  claimEvent(webhookEventId: string, now: number, keepMs?: number): boolean;
  counts(): { users: number; subscriptions: number };
  /** The most-subscribed sensors, most first (ties by id), for the welcome's buttons when the city lists no areas. */
  popularSensors(limit: number): { sensorId: string; subscribers: number }[];
  /** Admin settings of the residents' LINE (e.g. `quota_short_min_level`), kept across restarts. */
  getSetting(key: string): string | undefined;
  putSetting(key: string, value: string, now: number): void;
}

export type LineCommand =
  | { type: 'subscribe'; query: string; level?: AlertSeverity }
  | { type: 'unsubscribe'; query: string }
  | { type: 'unsubscribe_all' }
  | { type: 'list' }
  | { type: 'level'; query: string; level: AlertSeverity }
  | { type: 'lang'; lang: LineLang }
  | { type: 'help' }
  | { type: 'search'; query: string };

const LEVEL_WORDS: Record<string, AlertSeverity> = {
  注意: 'caution',
  警戒: 'warning',
  危険: 'danger',
  caution: 'caution',
  warning: 'warning',
  danger: 'danger',
};

/** Split a trailing level word off a query: `打田 危険` → query `打田`, level danger. */
function splitLevel(rest: string): { query: string; level?: AlertSeverity } {
  const m = /^(.*?)[\s\u3000]+(\S+)$/u.exec(rest);
  const level = m ? LEVEL_WORDS[(m[2] as string).toLowerCase()] : undefined;
  return m && level ? { query: (m[1] as string).trim(), level } : { query: rest };
}

/**
 * What a typed text means. The words are the ones a city puts on a rich menu
 * (登録 / 一覧 / 解除 / 全て解除), so they must work typed as well as tapped;
 * English equivalents for English users; anything else is a name search.
 * @example parseLineCommand('登録 打田駅前') // → { type: 'subscribe', query: '打田駅前' }
 */
export function parseLineCommand(input: string): LineCommand {
  // NFKC: full-width letters and spaces as half-width (ＬＩＳＴ, 全角スペース).
  const text = input.normalize('NFKC').trim().replace(/\s+/gu, ' ');
  const lower = text.toLowerCase();
  if (/^(全て解除|すべて解除|全解除|unsubscribe all|stop all)$/.test(lower)) return { type: 'unsubscribe_all' };
  if (/^(一覧|登録一覧|list|my list|subscriptions)$/.test(lower)) return { type: 'list' };
  if (/^(ヘルプ|使い方|help|\?)$/.test(lower)) return { type: 'help' };
  if (/^(english|英語)$/.test(lower)) return { type: 'lang', lang: 'en' };
  if (/^(日本語|japanese)$/.test(lower)) return { type: 'lang', lang: 'ja' };
  let m = /^(登録|subscribe|sub) (.+)$/i.exec(text);
  if (m) return { type: 'subscribe', ...splitLevel((m[2] as string).trim()) };
  m = /^(解除|unsubscribe|unsub|stop) (.+)$/i.exec(text);
  if (m) return { type: 'unsubscribe', query: (m[2] as string).trim() };
  m = /^(レベル|level) (.+)$/i.exec(text);
  if (m) {
    const s = splitLevel((m[2] as string).trim());
    if (s.level) return { type: 'level', query: s.query, level: s.level };
  }
  return { type: 'search', query: text };
}

/** Postback data kansui puts on its buttons (≤ 300 characters, Messaging API "Postback action"). */
export type LinePostback = { action: 'sub' | 'unsub'; sensorId: string } | { action: 'level'; sensorId: string; level: AlertSeverity };

export function formatPostback(p: LinePostback): string {
  const q = new URLSearchParams({ a: p.action, s: p.sensorId });
  if (p.action === 'level') q.set('l', p.level);
  return q.toString();
}

export function parsePostback(data: string): LinePostback | undefined {
  const q = new URLSearchParams(data);
  const a = q.get('a');
  const s = q.get('s');
  if (!s) return undefined;
  if (a === 'sub' || a === 'unsub') return { action: a, sensorId: s };
  const l = AlertSeveritySchema.safeParse(q.get('l'));
  if (a === 'level' && l.success) return { action: 'level', sensorId: s, level: l.data };
  return undefined;
}

type SensorLike = Pick<Sensor, 'id' | 'name' | 'nameEn' | 'lat' | 'lon' | 'state'> & { address?: string | undefined; site?: Sensor['site'] };

/** Sensors whose id equals the query, or whose name (either language) or address contains it; exact id first. */
export function findSensors<S extends SensorLike>(sensors: readonly S[], query: string): S[] {
  const q = query.normalize('NFKC').trim().toLowerCase();
  if (!q) return [];
  const live = sensors.filter((s) => s.state !== 'retired');
  const exact = live.filter((s) => s.id.toLowerCase() === q || s.name.normalize('NFKC').toLowerCase() === q);
  if (exact.length) return exact;
  return live.filter((s) => [s.name, s.nameEn ?? '', s.address ?? '', s.id].some((f) => f.normalize('NFKC').toLowerCase().includes(q)));
}

/** Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m, IUGG). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Sensors within `radiusM` of a point, nearest first. */
export function sensorsNear<S extends SensorLike>(sensors: readonly S[], at: { lat: number; lon: number }, radiusM: number): S[] {
  return sensors
    .filter((s) => s.state !== 'retired')
    .map((s) => ({ s, d: distanceM(at, s) }))
    .filter((x) => x.d <= radiusM)
    .sort((x, y) => x.d - y.d)
    .map((x) => x.s);
}

// ---- Messages (Messaging API message objects) ----

/** Limits from the Messaging API reference: text ≤ 5,000 characters; quick reply ≤ 13 buttons, label ≤ 20 characters. */
export const LINE_LIMITS = { textMax: 5000, quickReplyMax: 13, labelMax: 20, multicastMax: 500, messagesPerRequest: 5 } as const;

export interface LineTextMessage {
  type: 'text';
  text: string;
  quickReply?: { items: { type: 'action'; action: { type: 'postback'; label: string; data: string; displayText: string } | { type: 'message'; label: string; text: string } | { type: 'location'; label: string } }[] };
}

// Status and level words from the one catalogue (services/core/words.ts, issue 16).
const STATUS_JA = wordsIn(STATUS_WORDS, 'ja') as Record<Status, string>;
const STATUS_EN = wordsIn(STATUS_WORDS, 'en') as Record<Status, string>;
const LEVEL_JA: Record<AlertSeverity, string> = STATUS_JA;
const LEVEL_EN: Record<AlertSeverity, string> = STATUS_EN;

export function levelWord(level: AlertSeverity, lang: LineLang): string {
  return lang === 'ja' ? LEVEL_JA[level] : LEVEL_EN[level];
}

/**
 * A level as a reader of this sensor knows it: a road's 警戒; a river gauge's 警戒 with MLIT's
 * name beside it, 警戒（避難判断水位） (issue 12: as the map's long status words say it).
 */
function siteLevelWord(level: AlertSeverity, lang: LineLang, site: SensorLike['site']): string {
  if (site !== 'river') return levelWord(level, lang);
  return lang === 'ja' ? `${LEVEL_JA[level]}（${RIVER_LEVEL_JA[level]}）` : `${LEVEL_EN[level]} (${RIVER_LEVEL_EN[level].toLowerCase()})`;
}

/** A status in a list: the level's name for a river gauge at a level, else the plain status word. */
function siteStatusWord(status: Status, lang: LineLang, site: SensorLike['site']): string {
  if (status === 'caution' || status === 'warning' || status === 'danger') return siteLevelWord(status, lang, site);
  return lang === 'ja' ? STATUS_JA[status] : STATUS_EN[status];
}

function label(s: string): string {
  return [...s].length <= LINE_LIMITS.labelMax ? s : [...s].slice(0, LINE_LIMITS.labelMax - 1).join('') + '…';
}

function text(t: string, items?: NonNullable<LineTextMessage['quickReply']>['items']): LineTextMessage {
  const body = [...t].length > LINE_LIMITS.textMax ? [...t].slice(0, LINE_LIMITS.textMax - 1).join('') + '…' : t;
  return items?.length ? { type: 'text', text: body, quickReply: { items: items.slice(0, LINE_LIMITS.quickReplyMax) } } : { type: 'text', text: body };
}

function sensorName(s: SensorLike, lang: LineLang): string {
  return lang === 'en' ? (s.nameEn ?? s.name) : s.name;
}

function mapLink(baseUrl: string | undefined, sensorId?: string): string {
  if (!baseUrl) return '';
  return sensorId ? `${baseUrl}/?sensor=${encodeURIComponent(sensorId)}` : `${baseUrl}/`;
}

/** Welcome on `follow`: what this is, how to choose, how to stop, the map; quick replies for areas and "send location". */
export function buildWelcome(lang: LineLang, opts: { baseUrl?: string; areas: readonly string[] }): LineTextMessage {
  const map = mapLink(opts.baseUrl);
  const areaItems = opts.areas.slice(0, LINE_LIMITS.quickReplyMax - 1).map((a) => ({ type: 'action' as const, action: { type: 'message' as const, label: label(a), text: a } }));
  const items = [{ type: 'action' as const, action: { type: 'location' as const, label: lang === 'ja' ? '現在地の近く' : 'Near me' } }, ...areaItems];
  if (lang === 'en') {
    return text(
      [
        'Thank you for adding us. This account tells you when roads and rivers you choose flood (water-level sensors of the city).',
        'How to choose: send part of a place name (e.g. a station or underpass), or your location, and tap "Subscribe". You are told at Warning and above unless you choose another level.',
        '"list" shows your choices; "unsubscribe <name>" or "unsubscribe all" stops them; blocking this account deletes everything we hold.',
        ...(map ? [`Map: ${map}`] : []),
      ].join('\n\n'),
      items,
    );
  }
  return text(
    [
      '友だち追加ありがとうございます。市の水位センサーで、選んだ道路や河川の冠水・増水をLINEでお知らせします。',
      '選び方：地名や駅名の一部（例「打田」）か位置情報を送り、「登録」を押してください。通知は「警戒」以上です（変更できます）。',
      '「一覧」で登録の確認、「解除 名前」「全て解除」で停止できます。ブロックすると保存している情報はすべて削除されます。',
      ...(map ? [`地図：${map}`] : []),
    ].join('\n\n'),
    items,
  );
}

/** Search results: each sensor with its current status and a button to subscribe. */
export function buildSearchResult(lang: LineLang, query: string, found: readonly (SensorLike & { status: Status | undefined })[], opts: { baseUrl?: string }): LineTextMessage {
  if (!found.length) {
    return text(lang === 'ja' ? `「${query}」に当たるセンサーはありません。地名の一部か位置情報を送ってください。` : `No sensor matches "${query}". Send part of a place name, or your location.`);
  }
  const shown = found.slice(0, LINE_LIMITS.quickReplyMax);
  const lines = shown.map((s) => {
    const st = s.status ?? 'normal';
    const word = siteStatusWord(st, lang, s.site);
    return `・${sensorName(s, lang)}${lang === 'ja' ? `（${word}）` : ` (${word})`}${opts.baseUrl ? `\n  ${mapLink(opts.baseUrl, s.id)}` : ''}`;
  });
  const more = found.length > shown.length ? (lang === 'ja' ? `\nほか${found.length - shown.length}件。もう少し詳しく入力してください。` : `\n${found.length - shown.length} more: type a longer name.`) : '';
  const head = lang === 'ja' ? `「${query}」のセンサー：` : `Sensors matching "${query}":`;
  const tail = lang === 'ja' ? '\n下のボタンで登録できます。' : '\nTap a button below to subscribe.';
  return text(
    `${head}\n${lines.join('\n')}${more}${tail}`,
    shown.map((s) => ({
      type: 'action' as const,
      action: { type: 'postback' as const, label: label(`${lang === 'ja' ? '登録' : '+'} ${sensorName(s, lang)}`), data: formatPostback({ action: 'sub', sensorId: s.id }), displayText: lang === 'ja' ? `登録 ${s.name}` : `subscribe ${sensorName(s, lang)}` },
    })),
  );
}

/** Subscribed: says the level and offers the other levels as buttons. */
export function buildSubscribed(lang: LineLang, sensor: SensorLike, level: AlertSeverity, changed: boolean): LineTextMessage {
  const name = sensorName(sensor, lang);
  const others = (['caution', 'warning', 'danger'] as const).filter((l) => l !== level);
  const msg =
    lang === 'ja'
      ? `${changed ? '通知レベルを変更しました' : '登録しました'}：${name}\n「${siteLevelWord(level, lang, sensor.site)}」以上になったとき、上がったとき、平常に戻ったときにお知らせします。`
      : `${changed ? 'Level changed' : 'Subscribed'}: ${name}\nYou will be told when it reaches ${siteLevelWord(level, lang, sensor.site)} or above, when it gets worse, and when it is back to normal.`;
  return text(
    msg,
    others.map((l) => ({
      type: 'action' as const,
      action: { type: 'postback' as const, label: label(lang === 'ja' ? `${LEVEL_JA[l]}以上で通知` : `From ${LEVEL_EN[l]}`), data: formatPostback({ action: 'level', sensorId: sensor.id, level: l }), displayText: lang === 'ja' ? `レベル ${sensor.name} ${LEVEL_JA[l]}` : `level ${name} ${l}` },
    })),
  );
}

export function buildList(lang: LineLang, subs: readonly { sensor: SensorLike | undefined; sensorId: string; minLevel: AlertSeverity }[]): LineTextMessage {
  if (!subs.length) return text(lang === 'ja' ? '登録はありません。地名の一部を送ると探せます。' : 'You have no subscriptions. Send part of a place name to find sensors.');
  const lines = subs.map((s) => {
    const word = siteLevelWord(s.minLevel, lang, s.sensor?.site);
    return `・${s.sensor ? sensorName(s.sensor, lang) : s.sensorId}${lang === 'ja' ? `（${word}以上）` : ` (${word} and above)`}`;
  });
  return text(
    `${lang === 'ja' ? '登録中：' : 'Your subscriptions:'}\n${lines.join('\n')}`,
    subs.slice(0, LINE_LIMITS.quickReplyMax).map((s) => ({
      type: 'action' as const,
      action: { type: 'postback' as const, label: label(`${lang === 'ja' ? '解除' : 'Stop'} ${s.sensor ? sensorName(s.sensor, lang) : s.sensorId}`), data: formatPostback({ action: 'unsub', sensorId: s.sensorId }), displayText: lang === 'ja' ? `解除 ${s.sensor?.name ?? s.sensorId}` : `unsubscribe ${s.sensorId}` },
    })),
  );
}

export function buildUnsubscribed(lang: LineLang, names: readonly string[]): LineTextMessage {
  if (!names.length) return text(lang === 'ja' ? '解除する登録はありませんでした。「一覧」で確認できます。' : 'Nothing to unsubscribe. Send "list" to see your subscriptions.');
  return text(lang === 'ja' ? `解除しました：${names.join('、')}` : `Unsubscribed: ${names.join(', ')}`);
}

export function buildLangChanged(lang: LineLang): LineTextMessage {
  return text(lang === 'ja' ? 'これから日本語でお知らせします。' : 'From now on you will get messages in English.');
}

export function buildHelp(lang: LineLang, baseUrl?: string): LineTextMessage {
  return buildWelcome(lang, { ...(baseUrl && { baseUrl }), areas: [] });
}

export function buildAmbiguous(lang: LineLang, query: string, count: number): LineTextMessage {
  return text(lang === 'ja' ? `「${query}」に当たるセンサーが${count}件あります。名前を送って一覧から選んでください。` : `${count} sensors match "${query}". Send the name to choose from a list.`);
}

/** How fast the water moves, and when it reaches the next level at that rate (when it rises and the fit is good; services/core/trend.ts). */
export interface LevelTrend {
  cmPerMin: number;
  direction: TrendDirection;
  next?: { level: TrendLevel; cm: number; minutes: number };
  /** Issue 12: a river gauge's trend reads in metres per hour and MLIT's stage names. */
  river?: boolean;
  /** Rate in cm per hour (the core's), for the river wording. */
  cmPerH?: number;
}

/** The core trend (the one the map and the API show) in a push's words: cm a minute, minutes to the next level. */
export function toLevelTrend(t: Trend, thresholds: Thresholds, site?: 'road' | 'river'): LevelTrend {
  const out: LevelTrend = { cmPerMin: Math.round(t.rateCmPerH / 6) / 10, direction: t.direction, ...(site === 'river' && { river: true, cmPerH: t.rateCmPerH }) };
  if (t.nextLevel && t.etaS !== undefined) out.next = { level: t.nextLevel, cm: thresholds[t.nextLevel] ?? 0, minutes: t.etaS / 60 };
  return out;
}

const RIVER_LEVEL_JA: Record<TrendLevel, string> = wordsIn(RIVER_STAGE_WORDS, 'ja');
const RIVER_LEVEL_EN: Record<TrendLevel, string> = wordsIn(RIVER_STAGE_WORDS, 'en');

function describeTrend(lang: LineLang, t: LevelTrend): string {
  if (t.direction === 'steady') return lang === 'ja' ? '傾向：横ばい' : 'Trend: steady';
  if (t.river) {
    // Issue 12: a river gauge in metres per hour, with MLIT's stage names (as the map and the other channels).
    const rate = `${(Math.abs(t.cmPerH ?? t.cmPerMin * 60) / 100).toFixed(2)} m`;
    if (t.direction === 'falling') return lang === 'ja' ? `傾向：下降中（毎時 ${rate}）` : `Trend: falling (${rate}/h)`;
    const to = t.next ? (lang === 'ja' ? `、${RIVER_LEVEL_JA[t.next.level]}まで約${t.next.minutes}分` : `; ${RIVER_LEVEL_EN[t.next.level]} in about ${t.next.minutes} min`) : '';
    return lang === 'ja' ? `傾向：上昇中（毎時 ${rate}${to}）` : `Trend: rising (${rate}/h${to})`;
  }
  if (t.direction === 'falling') return lang === 'ja' ? `傾向：下降中（毎分 ${-t.cmPerMin} cm）` : `Trend: falling (${-t.cmPerMin} cm/min)`;
  const next = t.next
    ? lang === 'ja'
      ? `、${LEVEL_JA[t.next.level as AlertSeverity]}（${t.next.cm} cm）まで約${t.next.minutes}分` // a road has no 計画高水位
      : `; ${LEVEL_EN[t.next.level as AlertSeverity]} (${t.next.cm} cm) in about ${t.next.minutes} min`
    : '';
  return lang === 'ja' ? `傾向：上昇中（毎分 ${t.cmPerMin} cm${next}）` : `Trend: rising (${t.cmPerMin} cm/min${next})`;
}

/**
 * One alert push, in the resident's language: the notice's title and body
 * (name, status, level, rising, time, map link; services/core/alerts/channel.ts),
 * the trend and time to the next level where known, and how to stop.
 */
export function buildAlertPush(lang: LineLang, notice: { event?: string; text: Record<LineLang, { title: string; body: string }> }, trend?: LevelTrend): LineTextMessage {
  const t = notice.text[lang];
  const trendLine = trend && notice.event !== 'resolved' ? `\n${describeTrend(lang, trend)}` : '';
  return text(`${t.title}\n${t.body}${trendLine}\n${lang === 'ja' ? '（停止：「解除 名前」）' : '(To stop: "unsubscribe <name>")'}`);
}
