// The reader's language: words (Japanese by default, English on request, remembered in
// localStorage under the key every kansui page shares), and numbers and times as residents read
// them, always in the service's zone. One module (plus the shared word catalogue) because the
// first screen needs all of it (fewer requests on slow 4G).
import { DEFAULT_TIME_ZONE, prefixed, readLang, RIVER_STAGE_WORDS, saveLang, SENSOR_STATE_WORDS, STATUS_WORDS, translate } from '../shared/messages.js';


/** @typedef {import('../shared/messages.js').Lang} Lang */
/** @typedef {import('../shared/messages.js').Words} Words */

/**
 * The map's own messages, Japanese and English side by side (one catalogue format with
 * web/shared/messages.js, issue 16). Status, sensor-state and river-level words are not written
 * here: they come from the shared vocabulary, under the keys status.* and riverLevel.*.
 * @type {Readonly<Record<string, Words>>}
 */
const MESSAGES = {
  ...prefixed('status.', STATUS_WORDS),
  'status.maintenance': SENSOR_STATE_WORDS.maintenance,
  ...prefixed('riverLevel.', RIVER_STAGE_WORDS),
  title: { ja: '冠水マップ', en: 'Road flood map' },
  skipToList: { ja: '一覧へ移動', en: 'Skip to list' },
  loading: { ja: '読み込み中…', en: 'Loading…' },
  viewSwitch: { ja: '表示の切り替え', en: 'Switch view' },
  viewMap: { ja: '地図', en: 'Map' },
  viewList: { ja: '一覧', en: 'List' },
  listHeading: { ja: 'センサー一覧（危険度順）', en: 'Sensors (most severe first)' },
  searchLabel: { ja: '地名・住所で探す', en: 'Search by place or address' },
  searchPlaceholder: { ja: '例：打田、粉河駅', en: 'e.g. Uchita, Kokawa Station' },
  searchCount: { ja: '{n}か所', en: '{n} found' },
  searchNone: { ja: '見つかりません', en: 'Nothing found' },
  locate: { ja: '現在地', en: 'My location' },
  locating: { ja: '現在地を確認中…', en: 'Finding your location…' },
  locateFailed: { ja: '現在地がわかりませんでした。地名で探すこともできます。', en: 'Your location is not available. You can search by place name instead.' },
  showAll: { ja: 'すべて表示', en: 'Show all' },
  shareNative: { ja: '共有', en: 'Share' },
  mapHeading: { ja: '地図', en: 'Map' },
  legend: { ja: '凡例', en: 'Legend' },
  legendAndData: { ja: '凡例・データについて', en: 'Legend and data' },
  openData: { ja: 'オープンデータ (GeoJSON)', en: 'Open data (GeoJSON)' },
  // Issue 12: a river gauge's level is a stage above its datum, not a depth on a road.
  footNote: { ja: '道路のセンサーの水位は路面からの深さ、河川の水位計の水位は観測所の零点からの高さです。更新が途絶えたセンサーは「欠測」と灰色で表示します。', en: 'Road sensors show the water depth above the road; river gauges the stage above the gauge datum. Sensors that stopped reporting show as “Offline” in grey.' },
  langButton: { ja: 'English', en: '日本語' },
  'statusLong.normal': { ja: '平常（冠水なし）', en: 'Normal (no flooding)' },
  'statusLong.caution': { ja: '注意（路面に水）', en: 'Caution (water on road)' },
  'statusLong.warning': { ja: '警戒（通行注意）', en: 'Warning (drive with care)' },
  'statusLong.danger': { ja: '危険（冠水・進入しないで）', en: 'Danger (flooded, do not enter)' },
  'statusLong.offline': { ja: '欠測（データが届いていません）', en: 'Offline (no data arriving)' },
  'statusLong.maintenance': { ja: '点検中（データは参考値）', en: 'Maintenance (values for reference only)' },
  summaryNone: { ja: 'センサーがありません', en: 'No sensors' },
  summaryCount: { ja: '{n}件', en: '{n}' },
  noData: { ja: 'データなし', en: 'no data' },
  stageAtLeast: { ja: '{cm} cm 以上', en: '≥ {cm} cm' },
  stageBelow: { ja: '{cm} cm 未満', en: '< {cm} cm' },
  justNow: { ja: 'たった今', en: 'just now' },
  minutesAgo: { ja: '{n}分前', en: '{n} min ago' },
  hoursAgo: { ja: '{n}時間前', en: '{n} h ago' },
  daysAgo: { ja: '{n}日前', en: '{n} d ago' },
  updated: { ja: '更新', en: 'Updated' },
  bannerDown: { ja: 'ライブ更新が途切れています。再接続しています…（表示は {time} 時点）', en: 'Live updates interrupted. Reconnecting… (showing the state at {time})' },
  bannerBack: { ja: 'ライブ更新に再接続しました', en: 'Live updates reconnected' },
  bannerOfflineCopy: { ja: 'オフライン表示：{time} 時点の保存データです。ライブではありません。', en: 'Offline: saved data from {time}. This is not live.' },
  bannerLoadFailed: { ja: 'データを読み込めませんでした。接続を確認してください。再試行しています…', en: 'Could not load the data. Check your connection. Retrying…' },
  mapUnavailable: { ja: '地図を表示できません。一覧で状況を確認できます。', en: 'The map cannot be shown. The list still shows every sensor.' },
  tilesUnavailable: { ja: '背景地図を読み込めません。センサーの位置と状態は表示されています。', en: 'Background map tiles cannot load. Sensor positions and statuses are still shown.' },
  close: { ja: '閉じる', en: 'Close' },
  level: { ja: '水位', en: 'Level' },
  thresholds: { ja: '基準', en: 'Thresholds' },
  trend: { ja: '傾向', en: 'Trend' },
  trendRising: { ja: '上昇中 +{v}\u00a0cm/10\u2060分', en: 'Rising +{v}\u00a0cm/10\u00a0min' },
  trendFalling: { ja: '下降中 −{v}\u00a0cm/10\u2060分', en: 'Falling −{v}\u00a0cm/10\u00a0min' },
  trendSteady: { ja: '横ばい', en: 'Steady' },
  trendUnknown: { ja: '判定できません（データ不足）', en: 'Unknown (not enough data)' },
  trendRisingH: { ja: '上昇中 +{v}/時', en: 'Rising +{v}/h' },
  trendFallingH: { ja: '下降中 −{v}/時', en: 'Falling −{v}/h' },
  etaTo: { ja: '{level}まで約{time}', en: '{level} in about {time}' },
  etaMin: { ja: '{m}分', en: '{m}\u00a0min' },
  etaHourMin: { ja: '{h}時間{m}分', en: '{h}\u00a0h {m}\u00a0min' },
  etaHour: { ja: '{h}時間', en: '{h}\u00a0h' },
  'statusLongRiver.standby': { ja: '平常（水防団待機水位以上：水防団が待機する水位）', en: 'Normal (flood-fighting standby level: teams stand by)' },
  'statusLongRiver.planHighWater': { ja: '危険（計画高水位以上：堤防の設計を超える水位。命を守る行動を）', en: 'Danger (above the design high-water level the levees are built for: act now to save your life)' },
  'chartLine.standby': { ja: '水防団待機', en: 'Standby' },
  'chartLine.planHighWater': { ja: RIVER_STAGE_WORDS.planHighWater.ja, en: 'HWL' },
  gaugeLabelRiverLevels: { ja: '水位 {level}（{levels}）', en: 'Stage {level} ({levels})' },
  listSep: { ja: '、', en: ', ' },
  'statusLongRiver.normal': { ja: '平常（氾濫注意水位未満）', en: 'Normal (below the flood caution level)' },
  'statusLongRiver.caution': { ja: '注意（氾濫注意水位以上：川の情報に注意）', en: 'Caution (above the flood caution level: watch the river news)' },
  'statusLongRiver.warning': { ja: '警戒（避難判断水位以上：避難の準備を）', en: 'Warning (evacuation decision level: get ready to evacuate)' },
  'statusLongRiver.danger': { ja: '危険（氾濫危険水位以上：川に近づかないで）', en: 'Danger (flood danger level: stay away from the river)' },
  lastUpdate: { ja: '最終更新', en: 'Last update' },
  chart: { ja: '水位グラフ', en: 'Level chart' },
  range24h: { ja: '24時間', en: '24 h' },
  range7d: { ja: '7日間', en: '7 days' },
  chartTitle: { ja: '過去{range}の水位', en: 'Water level, last {range}' },
  chartDesc: { ja: '最高 {max}（{at}）、最新 {last}。点線は基準の水位。', en: 'Highest {max} ({at}), latest {last}. Dotted lines are the thresholds.' },
  chartEmpty: { ja: 'この期間のデータはありません', en: 'No data in this period' },
  chartLoading: { ja: 'グラフを読み込み中…', en: 'Loading chart…' },
  chartFailed: { ja: 'グラフを読み込めませんでした', en: 'Could not load the chart' },
  share: { ja: 'リンクをコピー', en: 'Copy link' },
  shared: { ja: 'リンクをコピーしました', en: 'Link copied' },
  shareTitle: { ja: '{name} の冠水状況', en: 'Flooding at {name}' },
  battery: { ja: '電池', en: 'Battery' },
  address: { ja: '場所', en: 'Location' },
  interval: { ja: '送信間隔', en: 'Reports every' },
  minutes: { ja: '{n}分', en: '{n} min' },
  maintenanceNote: { ja: 'このセンサーは点検中です。表示中の値は参考です。', en: 'This sensor is under maintenance. Values are for reference only.' },
  maintenanceWhy: { ja: '理由：{reason}', en: 'Reason: {reason}' },
  maintenanceEnd: { ja: '終了予定：{time}', en: 'Expected to end: {time}' },
  offlineNote: { ja: '{time} 以降データが届いていません。現地の状況はわかりません。', en: 'No data since {time}. The situation on site is unknown.' },
  gaugeLabel: { ja: '水位 {level} cm（注意 {c} cm、警戒 {w} cm、危険 {d} cm）', en: 'Level {level} cm (caution {c} cm, warning {w} cm, danger {d} cm)' },
  gaugeLabelStage: { ja: '水位 {level}（注意 {c} cm、警戒 {w} cm、危険 {d} cm）', en: 'Level {level} (caution {c} cm, warning {w} cm, danger {d} cm)' },
  markerLabel: { ja: '{name}：{status}、{level}', en: '{name}: {status}, {level}' },
  closureLabel: { ja: '通行止め（市が設定）', en: 'Road closed (set by the city)' },
  closureSegments: { ja: '市が設定した通行止め区間', en: 'Roads closed by the city' },
  closureSince: { ja: '（{time} から）', en: ' (since {time})' },
  notifyButton: { ja: '通知', en: 'Alerts' },
  notifyTitle: { ja: '冠水の通知を受け取る', en: 'Get flood alerts' },
  notifyExplain: { ja: 'このブラウザに通知を送ります。アカウントや個人情報は不要です。選んだセンサーが基準に達したときだけ届き、いつでも止められます。', en: 'We send notifications to this browser. No account or personal details needed. You only get one when a sensor you picked reaches the level you choose, and you can stop at any time.' },
  notifyScope: { ja: '対象', en: 'Sensors' },
  notifyAll: { ja: 'すべてのセンサー', en: 'All sensors' },
  notifyPicked: { ja: '選んだセンサーのみ', en: 'Only the sensors I picked' },
  notifyNonePicked: { ja: 'センサーの詳細画面で「このセンサーを通知」を押すと追加されます。', en: 'Open a sensor and press “Alert me for this sensor” to add it.' },
  notifyMin: { ja: '通知する段階', en: 'Alert me from' },
  notifyMinCaution: { ja: '注意以上', en: 'Caution and above' },
  notifyMinWarning: { ja: '警戒以上', en: 'Warning and above' },
  notifyMinDanger: { ja: '危険のみ', en: 'Danger only' },
  notifySubscribe: { ja: '通知を受け取る', en: 'Turn on alerts' },
  notifyUpdate: { ja: '設定を保存', en: 'Save' },
  notifyUnsubscribe: { ja: '通知を止める', en: 'Stop alerts' },
  notifyCancel: { ja: 'キャンセル', en: 'Cancel' },
  notifyDone: { ja: '通知の設定を保存しました', en: 'Alert settings saved' },
  notifyStopped: { ja: '通知を止めました', en: 'Alerts stopped' },
  notifyDenied: { ja: '通知が許可されていません。ブラウザの設定で許可してください。', en: 'Notifications are blocked. Allow them in your browser settings.' },
  notifyFailed: { ja: '通知を設定できませんでした：{msg}', en: 'Could not set up alerts: {msg}' },
  notifyThis: { ja: 'このセンサーを通知', en: 'Alert me for this sensor' },
  notifyThisOn: { ja: '通知設定中', en: 'Alerts on' },
};

let lang = readLang(() => localStorage);
/** @type {Set<(lang: Lang) => void>} */
const listeners = new Set();

export function getLang() {
  return lang;
}

/**
 * Switch language, remember it, and re-render every listener.
 * @param {string} next
 */
export function setLang(next) {
  if (next !== 'ja' && next !== 'en') return;
  lang = next;
  saveLang(() => localStorage, next);
  applyStaticText();
  for (const fn of listeners) fn(lang);
}

/** @param {(lang: Lang) => void} fn */
export function onLangChange(fn) {
  listeners.add(fn);
}

/**
 * Translate a key, filling `{name}` placeholders.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 * @example t('minutesAgo', { n: 3 }) // "3分前"
 */
export function t(key, vars) {
  return translate(MESSAGES, lang, key, vars);
}

/**
 * A catalogue word inside a sentence: English starts it lower-case ("flood danger level 3.80 m").
 * @param {string} word
 */
export function inSentence(word) {
  return lang === 'en' ? word.charAt(0).toLowerCase() + word.slice(1) : word;
}

/**
 * Fill every element marked with data-i18n / data-i18n-aria-label, and the document language.
 * @param {ParentNode} [root]
 */
export function applyStaticText(root = document) {
  document.documentElement.lang = lang;
  document.title = `${t('title')} | kansui`;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n') ?? '');
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label') ?? ''));
}

// --- numbers and times

let timeZone = DEFAULT_TIME_ZONE;
/** @type {Map<string, Intl.DateTimeFormat>} */
const formatters = new Map();

/**
 * @param {string | undefined} tz
 */
export function setTimeZone(tz) {
  if (tz && tz !== timeZone) {
    timeZone = tz;
    formatters.clear();
  }
}

export function getTimeZone() {
  return timeZone;
}

/** @param {'time' | 'day' | 'datetime'} kind */
function formatter(kind) {
  const key = `${getLang()}:${kind}`;
  let f = formatters.get(key);
  if (!f) {
    /** @type {Intl.DateTimeFormatOptions} */
    const base = { timeZone, hourCycle: 'h23' };
    /** @type {Intl.DateTimeFormatOptions} */
    const opts =
      kind === 'time' ? { ...base, hour: '2-digit', minute: '2-digit' }
      : kind === 'day' ? { ...base, month: 'numeric', day: 'numeric' }
      : { ...base, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' };
    f = new Intl.DateTimeFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB', opts);
    formatters.set(key, f);
  }
  return f;
}

/**
 * "14:05" in the service's zone.
 * @param {number} ms
 */
export function formatClock(ms) {
  return formatter('time').format(ms);
}

/**
 * "11/24" (ja) or "24/11" (en) in the service's zone.
 * @param {number} ms
 */
export function formatDay(ms) {
  return formatter('day').format(ms);
}

/**
 * "11/24 14:05": date and time in the service's zone.
 * @param {number} ms
 */
export function formatDateTime(ms) {
  return formatter('datetime').format(ms);
}

/**
 * "23.5 cm", or the words for no data. A stage sensor (issue 11) knows only
 * which fixed heights are wet: "20 cm 以上" / "≥ 20 cm", or "10 cm 未満" /
 * "< 10 cm" when none is, never a false exact level.
 * @param {number|null|undefined} levelCm
 * @param {number[]|null} [stages]
 * @param {'road'|'river'} [site] a river gauge's stage reads in metres (issue 12)
 */
export function formatLevel(levelCm, stages, site) {
  if (levelCm === null || levelCm === undefined) return t('noData');
  // Issue 12: river stages in metres with two decimals, as 川の防災情報 shows them (`3.80 m`, `−0.35 m`).
  if (site === 'river') return formatMetres(levelCm);
  if (stages && stages.length) {
    const wet = stages.filter((cm) => cm <= levelCm).pop();
    return wet === undefined ? t('stageBelow', { cm: stages[0] }) : t('stageAtLeast', { cm: wet });
  }
  return `${levelCm.toFixed(1)} cm`;
}

/**
 * Relative age for a glance: "たった今", "3分前", "2時間前"; past a day, the date and time.
 * @example relativeTime(now - 180_000, now) // "3分前"
 * @param {number | null | undefined} ms
 * @param {number} now
 */
export function relativeTime(ms, now) {
  if (ms === null || ms === undefined) return t('noData');
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 60) return t('justNow');
  if (s < 3600) return t('minutesAgo', { n: Math.floor(s / 60) });
  if (s < 86_400) return t('hoursAgo', { n: Math.floor(s / 3600) });
  return formatDateTime(ms);
}

/**
 * A river stage in metres with two decimals and a real minus sign (issue 12): 380 → "3.80 m".
 * @param {number} cm
 */
export function formatMetres(cm) {
  const m = (Math.abs(cm) / 100).toFixed(2);
  return `${cm < 0 && m !== '0.00' ? '−' : ''}${m}\u00a0m`;
}

/**
 * The long status words for a sensor's site (issue 12): a river gauge speaks of MLIT's stages, not of water on a road.
 * @param {Pick<import('./sensor-store.js').SensorView, 'site' | 'status' | 'thresholds' | 'levelCm'>} s
 */
export function statusLongOf(s) {
  const river = s.site === 'river' && ['normal', 'caution', 'warning', 'danger'].includes(s.status);
  if (!river) return t(`statusLong.${s.status}`);
  // MLIT's 水防団待機水位 and 計画高水位 where the gauge has them (issue 12): still 平常 / 危険, named.
  const th = s.thresholds ?? {};
  const level = s.levelCm;
  if (s.status === 'normal' && typeof th.standby === 'number' && typeof level === 'number' && level >= th.standby) return t('statusLongRiver.standby');
  if (s.status === 'danger' && typeof th.plan_high_water === 'number' && typeof level === 'number' && level >= th.plan_high_water) return t('statusLongRiver.planHighWater');
  return t(`statusLongRiver.${s.status}`);
}

/**
 * The server's trend in words (issue 12, services/core/trend.ts): "↑ 上昇中 +12.0 cm/時" or, for a river,
 * "↑ 上昇中 +0.40 m/時"; "判定できません" when the server has none.
 * @param {Pick<import('./sensor-store.js').SensorView, 'site' | 'trend'>} s
 */
export function trendText(s) {
  const tr = s.trend;
  if (!tr) return t('trendUnknown');
  if (tr.direction === 'steady') return `→ ${t('trendSteady')}`;
  const abs = Math.abs(tr.rate_cm_per_h);
  const v = s.site === 'river' ? `${(abs / 100).toFixed(2)}\u00a0m` : `${abs.toFixed(1)}\u00a0cm`;
  return tr.direction === 'rising' ? `↑ ${t('trendRisingH', { v })}` : `↓ ${t('trendFallingH', { v })}`;
}

/**
 * Time to the next level, only when the server gives one (rising with a good fit, issue 12):
 * "危険（30 cm）まで約8分", "氾濫危険水位まで約15分"; '' otherwise.
 * @param {Pick<import('./sensor-store.js').SensorView, 'site' | 'thresholds' | 'nextLevel' | 'etaS'>} s
 */
export function etaText(s) {
  if (!s.nextLevel || s.etaS === null || s.etaS === undefined) return '';
  const min = Math.round(s.etaS / 60);
  const h = Math.floor(min / 60);
  const m = min % 60;
  const time = h === 0 ? t('etaMin', { m }) : m === 0 ? t('etaHour', { h }) : t('etaHourMin', { h, m });
  const cm = s.thresholds?.[s.nextLevel];
  // Above 氾濫危険水位, a river gauge's 計画高水位 where set (the API's `plan_high_water`, issue 12).
  const riverKey = s.nextLevel === 'plan_high_water' ? 'planHighWater' : s.nextLevel;
  const level = s.site === 'river' ? t(`riverLevel.${riverKey}`) : `${t(`status.${s.nextLevel}`)}${lang === 'ja' ? `（${cm} cm）` : ` (${cm} cm)`}`;
  return t('etaTo', { level, time });
}
