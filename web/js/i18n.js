// The reader's language: words (Japanese by default, English on request, remembered in
// localStorage), and numbers and times as residents read them, always in the service's zone
// (Asia/Tokyo). One module because the first screen needs all of it (fewer requests on slow 4G).

const STORAGE_KEY = 'kansui.lang';

/** @type {Record<'ja'|'en', Record<string, string>>} */
const STRINGS = {
  ja: {
    title: '冠水マップ',
    skipToList: '一覧へ移動',
    loading: '読み込み中…',
    viewSwitch: '表示の切り替え',
    viewMap: '地図',
    viewList: '一覧',
    listHeading: 'センサー一覧（危険度順）',
    searchLabel: '地名・住所で探す',
    searchPlaceholder: '例：打田、粉河駅',
    searchCount: '{n}か所',
    searchNone: '見つかりません',
    locate: '現在地',
    locating: '現在地を確認中…',
    locateFailed: '現在地がわかりませんでした。地名で探すこともできます。',
    showAll: 'すべて表示',
    shareNative: '共有',
    mapHeading: '地図',
    legend: '凡例',
    legendAndData: '凡例・データについて',
    openData: 'オープンデータ (GeoJSON)',
    footNote: '水位は路面からの深さです。更新が途絶えたセンサーは「欠測」と灰色で表示します。',
    langButton: 'English',
    'status.normal': '平常',
    'status.caution': '注意',
    'status.warning': '警戒',
    'status.danger': '危険',
    'status.offline': '欠測',
    'status.maintenance': '点検中',
    'statusLong.normal': '平常（冠水なし）',
    'statusLong.caution': '注意（路面に水）',
    'statusLong.warning': '警戒（通行注意）',
    'statusLong.danger': '危険（冠水・進入しないで）',
    'statusLong.offline': '欠測（データが届いていません）',
    'statusLong.maintenance': '点検中（データは参考値）',
    summaryNone: 'センサーがありません',
    summaryCount: '{n}件',
    noData: 'データなし',
    stageAtLeast: '{cm} cm 以上',
    stageBelow: '{cm} cm 未満',
    justNow: 'たった今',
    minutesAgo: '{n}分前',
    hoursAgo: '{n}時間前',
    daysAgo: '{n}日前',
    updated: '更新',
    bannerDown: 'ライブ更新が途切れています。再接続しています…（表示は {time} 時点）',
    bannerBack: 'ライブ更新に再接続しました',
    bannerOfflineCopy: 'オフライン表示：{time} 時点の保存データです。ライブではありません。',
    bannerLoadFailed: 'データを読み込めませんでした。接続を確認してください。再試行しています…',
    mapUnavailable: '地図を表示できません。一覧で状況を確認できます。',
    tilesUnavailable: '背景地図を読み込めません。センサーの位置と状態は表示されています。',
    close: '閉じる',
    level: '水位',
    thresholds: '基準',
    trend: '傾向',
    trendRising: '上昇中 +{v}\u00a0cm/10\u2060分', // no line break inside the rate
    trendFalling: '下降中 −{v}\u00a0cm/10\u2060分',
    trendSteady: '横ばい',
    trendUnknown: '判定できません（データ不足）',
    // Issue 12: the server's trend (services/core/trend.ts), per hour; river stages in metres.
    trendRisingH: '上昇中 +{v}/時',
    trendFallingH: '下降中 −{v}/時',
    etaTo: '{level}まで約{time}',
    etaMin: '{m}分',
    etaHourMin: '{h}時間{m}分',
    etaHour: '{h}時間',
    'level.caution': '注意', 'level.warning': '警戒', 'level.danger': '危険',
    'riverLevel.caution': '氾濫注意水位', 'riverLevel.warning': '避難判断水位', 'riverLevel.danger': '氾濫危険水位',
    // Issue 12: MLIT's two other levels, shown only for a river gauge that has them.
    'riverLevel.standby': '水防団待機水位', 'riverLevel.planHighWater': '計画高水位',
    'statusLongRiver.standby': '平常（水防団待機水位以上：水防団が待機する水位）',
    'statusLongRiver.planHighWater': '危険（計画高水位以上：堤防の設計を超える水位。命を守る行動を）',
    'chartLine.standby': '水防団待機', 'chartLine.planHighWater': '計画高水位',
    gaugeLabelRiverLevels: '水位 {level}（{levels}）',
    gaugeRiverLevel: '{name} {v}',
    'gaugeRiver.standby': '水防団待機水位', 'gaugeRiver.caution': '氾濫注意水位', 'gaugeRiver.warning': '避難判断水位', 'gaugeRiver.danger': '氾濫危険水位', 'gaugeRiver.planHighWater': '計画高水位',
    listSep: '、',
    'statusLongRiver.normal': '平常（氾濫注意水位未満）',
    'statusLongRiver.caution': '注意（氾濫注意水位以上：川の情報に注意）',
    'statusLongRiver.warning': '警戒（避難判断水位以上：避難の準備を）',
    'statusLongRiver.danger': '危険（氾濫危険水位以上：川に近づかないで）',
    lastUpdate: '最終更新',
    chart: '水位グラフ',
    range24h: '24時間',
    range7d: '7日間',
    chartTitle: '過去{range}の水位',
    chartDesc: '最高 {max}（{at}）、最新 {last}。点線は基準の水位。',
    chartEmpty: 'この期間のデータはありません',
    chartLoading: 'グラフを読み込み中…',
    chartFailed: 'グラフを読み込めませんでした',
    share: 'リンクをコピー',
    shared: 'リンクをコピーしました',
    shareTitle: '{name} の冠水状況',
    battery: '電池',
    address: '場所',
    interval: '送信間隔',
    minutes: '{n}分',
    maintenanceNote: 'このセンサーは点検中です。表示中の値は参考です。',
    maintenanceWhy: '理由：{reason}',
    maintenanceEnd: '終了予定：{time}',
    offlineNote: '{time} 以降データが届いていません。現地の状況はわかりません。',
    gaugeLabel: '水位 {level} cm（注意 {c} cm、警戒 {w} cm、危険 {d} cm）',
    gaugeLabelStage: '水位 {level}（注意 {c} cm、警戒 {w} cm、危険 {d} cm）',
    markerLabel: '{name}：{status}、{level}',
    closureLabel: '通行止め（市が設定）',
    closureSegments: '市が設定した通行止め区間',
    closureSince: '（{time} から）',
    notifyButton: '通知',
    notifyTitle: '冠水の通知を受け取る',
    notifyExplain: 'このブラウザに通知を送ります。アカウントや個人情報は不要です。選んだセンサーが基準に達したときだけ届き、いつでも止められます。',
    notifyScope: '対象',
    notifyAll: 'すべてのセンサー',
    notifyPicked: '選んだセンサーのみ',
    notifyNonePicked: 'センサーの詳細画面で「このセンサーを通知」を押すと追加されます。',
    notifyMin: '通知する段階',
    notifyMinCaution: '注意以上',
    notifyMinWarning: '警戒以上',
    notifyMinDanger: '危険のみ',
    notifySubscribe: '通知を受け取る',
    notifyUpdate: '設定を保存',
    notifyUnsubscribe: '通知を止める',
    notifyCancel: 'キャンセル',
    notifyDone: '通知の設定を保存しました',
    notifyStopped: '通知を止めました',
    notifyDenied: '通知が許可されていません。ブラウザの設定で許可してください。',
    notifyFailed: '通知を設定できませんでした：{msg}',
    notifyThis: 'このセンサーを通知',
    notifyThisOn: '通知設定中',
  },
  en: {
    title: 'Road flood map',
    skipToList: 'Skip to list',
    loading: 'Loading…',
    viewSwitch: 'Switch view',
    viewMap: 'Map',
    viewList: 'List',
    listHeading: 'Sensors (most severe first)',
    searchLabel: 'Search by place or address',
    searchPlaceholder: 'e.g. Uchita, Kokawa Station',
    searchCount: '{n} found',
    searchNone: 'Nothing found',
    locate: 'My location',
    locating: 'Finding your location…',
    locateFailed: 'Your location is not available. You can search by place name instead.',
    showAll: 'Show all',
    shareNative: 'Share',
    mapHeading: 'Map',
    legend: 'Legend',
    legendAndData: 'Legend and data',
    openData: 'Open data (GeoJSON)',
    footNote: 'Level is water depth above the road. Sensors that stopped reporting show as “Offline” in grey.',
    langButton: '日本語',
    'status.normal': 'Normal',
    'status.caution': 'Caution',
    'status.warning': 'Warning',
    'status.danger': 'Danger',
    'status.offline': 'Offline',
    'status.maintenance': 'Maintenance',
    'statusLong.normal': 'Normal (no flooding)',
    'statusLong.caution': 'Caution (water on road)',
    'statusLong.warning': 'Warning (drive with care)',
    'statusLong.danger': 'Danger (flooded, do not enter)',
    'statusLong.offline': 'Offline (no data arriving)',
    'statusLong.maintenance': 'Maintenance (values for reference only)',
    summaryNone: 'No sensors',
    summaryCount: '{n}',
    noData: 'no data',
    stageAtLeast: '≥ {cm} cm',
    stageBelow: '< {cm} cm',
    justNow: 'just now',
    minutesAgo: '{n} min ago',
    hoursAgo: '{n} h ago',
    daysAgo: '{n} d ago',
    updated: 'Updated',
    bannerDown: 'Live updates interrupted. Reconnecting… (showing the state at {time})',
    bannerBack: 'Live updates reconnected',
    bannerOfflineCopy: 'Offline: saved data from {time}. This is not live.',
    bannerLoadFailed: 'Could not load the data. Check your connection. Retrying…',
    mapUnavailable: 'The map cannot be shown. The list still shows every sensor.',
    tilesUnavailable: 'Background map tiles cannot load. Sensor positions and statuses are still shown.',
    close: 'Close',
    level: 'Level',
    thresholds: 'Thresholds',
    trend: 'Trend',
    trendRising: 'Rising +{v}\u00a0cm/10\u00a0min',
    trendFalling: 'Falling −{v}\u00a0cm/10\u00a0min',
    trendSteady: 'Steady',
    trendUnknown: 'Unknown (not enough data)',
    trendRisingH: 'Rising +{v}/h',
    trendFallingH: 'Falling −{v}/h',
    etaTo: '{level} in about {time}',
    etaMin: '{m}\u00a0min',
    etaHourMin: '{h}\u00a0h {m}\u00a0min',
    etaHour: '{h}\u00a0h',
    'level.caution': 'Caution', 'level.warning': 'Warning', 'level.danger': 'Danger',
    'riverLevel.caution': 'Flood-alert stage', 'riverLevel.warning': 'Evacuation-decision stage', 'riverLevel.danger': 'Flood-danger stage',
    'riverLevel.standby': 'Flood-fighting standby stage', 'riverLevel.planHighWater': 'Design high-water level',
    'statusLongRiver.standby': 'Normal (flood-fighting standby stage: teams stand by)',
    'statusLongRiver.planHighWater': 'Danger (above the design high-water level the levees are built for: act now to save your life)',
    'chartLine.standby': 'Standby', 'chartLine.planHighWater': 'HWL',
    gaugeLabelRiverLevels: 'Stage {level} ({levels})',
    gaugeRiverLevel: '{name} {v}',
    'gaugeRiver.standby': 'flood-fighting standby', 'gaugeRiver.caution': 'flood-alert', 'gaugeRiver.warning': 'evacuation-decision', 'gaugeRiver.danger': 'flood-danger', 'gaugeRiver.planHighWater': 'design high-water',
    listSep: ', ',
    'statusLongRiver.normal': 'Normal (below the flood-alert stage)',
    'statusLongRiver.caution': 'Caution (above the flood-alert stage: watch the river news)',
    'statusLongRiver.warning': 'Warning (evacuation-decision stage: get ready to evacuate)',
    'statusLongRiver.danger': 'Danger (flood-danger stage: stay away from the river)',
    lastUpdate: 'Last update',
    chart: 'Level chart',
    range24h: '24 h',
    range7d: '7 days',
    chartTitle: 'Water level, last {range}',
    chartDesc: 'Highest {max} ({at}), latest {last}. Dotted lines are the thresholds.',
    chartEmpty: 'No data in this period',
    chartLoading: 'Loading chart…',
    chartFailed: 'Could not load the chart',
    share: 'Copy link',
    shared: 'Link copied',
    shareTitle: 'Flooding at {name}',
    battery: 'Battery',
    address: 'Location',
    interval: 'Reports every',
    minutes: '{n} min',
    maintenanceNote: 'This sensor is under maintenance. Values are for reference only.',
    maintenanceWhy: 'Reason: {reason}',
    maintenanceEnd: 'Expected to end: {time}',
    offlineNote: 'No data since {time}. The situation on site is unknown.',
    gaugeLabel: 'Level {level} cm (caution {c} cm, warning {w} cm, danger {d} cm)',
    gaugeLabelStage: 'Level {level} (caution {c} cm, warning {w} cm, danger {d} cm)',
    markerLabel: '{name}: {status}, {level}',
    closureLabel: 'Road closed (set by the city)',
    closureSegments: 'Roads closed by the city',
    closureSince: ' (since {time})',
    notifyButton: 'Alerts',
    notifyTitle: 'Get flood alerts',
    notifyExplain: 'We send notifications to this browser. No account or personal details needed. You only get one when a sensor you picked reaches the level you choose, and you can stop at any time.',
    notifyScope: 'Sensors',
    notifyAll: 'All sensors',
    notifyPicked: 'Only the sensors I picked',
    notifyNonePicked: 'Open a sensor and press “Alert me for this sensor” to add it.',
    notifyMin: 'Alert me from',
    notifyMinCaution: 'Caution and above',
    notifyMinWarning: 'Warning and above',
    notifyMinDanger: 'Danger only',
    notifySubscribe: 'Turn on alerts',
    notifyUpdate: 'Save',
    notifyUnsubscribe: 'Stop alerts',
    notifyCancel: 'Cancel',
    notifyDone: 'Alert settings saved',
    notifyStopped: 'Alerts stopped',
    notifyDenied: 'Notifications are blocked. Allow them in your browser settings.',
    notifyFailed: 'Could not set up alerts: {msg}',
    notifyThis: 'Alert me for this sensor',
    notifyThisOn: 'Alerts on',
  },
};

/** @returns {'ja'|'en'} */
function initialLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'ja' || saved === 'en') return saved;
  } catch {
    // Storage blocked (private mode): fall back to the default.
  }
  return 'ja';
}

let lang = initialLang();
const listeners = new Set();

export function getLang() {
  return lang;
}

/** Switch language, remember it, and re-render every listener. */
export function setLang(next) {
  if (next !== 'ja' && next !== 'en') return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered, still switched.
  }
  applyStaticText();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/**
 * Translate a key, filling `{name}` placeholders.
 * @example t('minutesAgo', { n: 3 }) // "3分前"
 */
export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.ja[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** Fill every element marked with data-i18n / data-i18n-aria-label, and the document language. */
export function applyStaticText(root = document) {
  document.documentElement.lang = lang;
  document.title = `${t('title')} | kansui`;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
}

// --- numbers and times

let timeZone = 'Asia/Tokyo';
const formatters = new Map();

export function setTimeZone(tz) {
  if (tz && tz !== timeZone) {
    timeZone = tz;
    formatters.clear();
  }
}

export function getTimeZone() {
  return timeZone;
}

function formatter(kind) {
  const key = `${getLang()}:${kind}`;
  let f = formatters.get(key);
  if (!f) {
    const base = { timeZone, hourCycle: 'h23' };
    const opts =
      kind === 'time' ? { ...base, hour: '2-digit', minute: '2-digit' }
      : kind === 'day' ? { ...base, month: 'numeric', day: 'numeric' }
      : { ...base, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' };
    f = new Intl.DateTimeFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB', opts);
    formatters.set(key, f);
  }
  return f;
}

/** "14:05" in the service's zone. */
export function formatClock(ms) {
  return formatter('time').format(ms);
}

/** "11/24" (ja) or "24/11" (en) in the service's zone. */
export function formatDay(ms) {
  return formatter('day').format(ms);
}

/** "11/24 14:05": date and time in the service's zone. */
export function formatDateTime(ms) {
  return formatter('datetime').format(ms);
}

/**
 * "23.5 cm", or the words for no data. A stage sensor (issue 11) knows only
 * which fixed heights are wet: "20 cm 以上" / "≥ 20 cm", or "10 cm 未満" /
 * "< 10 cm" when none is, never a false exact level.
 * @param {number|null|undefined} levelCm
 * @param {number[]|null} [stages]
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
 */
export function relativeTime(ms, now) {
  if (ms === null || ms === undefined) return t('noData');
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 60) return t('justNow');
  if (s < 3600) return t('minutesAgo', { n: Math.floor(s / 60) });
  if (s < 86_400) return t('hoursAgo', { n: Math.floor(s / 3600) });
  return formatDateTime(ms);
}

/** A river stage in metres with two decimals and a real minus sign (issue 12): 380 → "3.80 m". */
export function formatMetres(cm) {
  const m = (Math.abs(cm) / 100).toFixed(2);
  return `${cm < 0 && m !== '0.00' ? '−' : ''}${m}\u00a0m`;
}

/** The long status words for a sensor's site (issue 12): a river gauge speaks of MLIT's stages, not of water on a road. */
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
 */
export function etaText(s) {
  if (!s.nextLevel || s.etaS === null || s.etaS === undefined) return '';
  const min = Math.round(s.etaS / 60);
  const h = Math.floor(min / 60);
  const m = min % 60;
  const time = h === 0 ? t('etaMin', { m }) : m === 0 ? t('etaHour', { h }) : t('etaHourMin', { h, m });
  const cm = s.thresholds?.[s.nextLevel];
  const level = s.site === 'river' ? t(`riverLevel.${s.nextLevel}`) : `${t(`level.${s.nextLevel}`)}${lang === 'ja' ? `（${cm} cm）` : ` (${cm} cm)`}`;
  return t('etaTo', { level, time });
}
