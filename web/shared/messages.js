// The words kansui uses for water levels and sensors, Japanese first and English second: ONE
// catalogue for the public map, the technician console and the server's texts (alerts, CAP and
// Atom, LINE), issue 16, and the few constants the pages and the server share (the time zone,
// Leaflet's version). The browser loads it as a static file (/shared/messages.js, one request on
// the map's first load); the server imports it through services/core/words.ts. Pure data and pure
// functions: no DOM, no Node (test/unit/architecture.test.ts), and no word here may be written out
// anywhere else (test/unit/one-vocabulary.test.ts).

/** @typedef {'ja' | 'en'} Lang */
/** @typedef {{ readonly ja: string, readonly en: string }} Words */

/** The languages, default first. */
export const LANGS = /** @type {const} */ (['ja', 'en']);

/** Where every page remembers the reader's language (map, console, embed). */
export const LANG_STORAGE_KEY = 'kansui.lang';
/** Keys older pages used (the console had its own until issue 16); read once, then moved. */
export const OLD_LANG_STORAGE_KEYS = /** @type {const} */ (['kansui-console-lang']);

/**
 * @param {string} ja
 * @param {string} en
 * @returns {Words}
 */
function words(ja, en) {
  return Object.freeze({ ja, en });
}

/**
 * The status of a reading (services/core/status.ts STATUSES), in a road's words. A reading never
 * says 通行止め: only the city closes a road (services/core/closure.ts).
 */
export const STATUS_WORDS = Object.freeze({
  normal: words('平常', 'Normal'),
  caution: words('注意', 'Caution'),
  warning: words('警戒', 'Warning'),
  danger: words('危険', 'Danger'),
  offline: words('欠測', 'Offline'),
});

/**
 * A river gauge's levels by MLIT's names (水防法; MLIT 水位の種類): 氾濫注意水位, 避難判断水位 and
 * 氾濫危険水位 are the statuses caution / warning / danger (警戒レベル 2–4); 水防団待機水位 (still
 * normal) and 計画高水位 (still danger) are named where a gauge has them (issue 12).
 */
export const RIVER_STAGE_WORDS = Object.freeze({
  standby: words('水防団待機水位', 'Flood-fighting standby level'),
  caution: words('氾濫注意水位', 'Flood caution level'),
  warning: words('避難判断水位', 'Evacuation decision level'),
  danger: words('氾濫危険水位', 'Flood danger level'),
  planHighWater: words('計画高水位', 'Design high-water level'),
});

/** A sensor's operating state (services/core/sensor.ts), when it is not simply active. */
export const SENSOR_STATE_WORDS = Object.freeze({
  active: words('運用中', 'Active'),
  maintenance: words('点検中', 'Maintenance'),
  retired: words('廃止', 'Retired'),
});

/** What an alert is about (services/core/alerts/alert.ts AlertKind). */
export const ALERT_KIND_WORDS = Object.freeze({
  flood: words('冠水', 'Flooding'),
  offline: words(STATUS_WORDS.offline.ja, 'Sensor offline'),
  low_battery: words('電池低下', 'Low battery'),
  sensor_fault: words('センサー異常', 'Sensor fault'),
  maintenance_danger: words('点検中に危険水位', 'Danger level during maintenance'),
});

/** A river gauge's flood alert: high water (増水), not water on a road (冠水). */
export const RIVER_FLOOD_WORDS = words('増水', 'High water');

/**
 * @typedef {{ getItem(key: string): string | null, setItem(key: string, value: string): void, removeItem(key: string): void }} LangStorage
 * @typedef {LangStorage | (() => LangStorage | undefined) | undefined} LangStorageSource the storage, or a
 *   function that returns it: a page passes `() => localStorage`, because even reading that property throws
 *   where storage is blocked (some private modes), and the server has none; this file names no global (pure).
 */

/**
 * @param {LangStorageSource} source
 * @returns {LangStorage | undefined}
 */
function openStorage(source) {
  return typeof source === 'function' ? source() : source;
}

/**
 * The reader's language as every page remembers it: LANG_STORAGE_KEY, else a key an older page
 * used (moved over once), else Japanese. Storage that throws (blocked, private mode) is no choice.
 * @param {LangStorageSource} source the page's localStorage (or a function returning it)
 * @returns {Lang}
 */
export function readLang(source) {
  try {
    const storage = openStorage(source);
    if (!storage) return 'ja';
    const saved = storage.getItem(LANG_STORAGE_KEY);
    if (saved === 'ja' || saved === 'en') return saved;
    for (const old of OLD_LANG_STORAGE_KEYS) {
      const v = storage.getItem(old);
      if (v === 'ja' || v === 'en') {
        storage.setItem(LANG_STORAGE_KEY, v);
        storage.removeItem(old);
        return v;
      }
    }
  } catch {
    // Blocked storage: the default.
  }
  return 'ja';
}

/**
 * Remember the reader's language (not remembered when storage is blocked; still switched).
 * @param {LangStorageSource} source
 * @param {Lang} lang
 */
export function saveLang(source, lang) {
  try {
    openStorage(source)?.setItem(LANG_STORAGE_KEY, lang);
  } catch {
    // Not remembered, still switched.
  }
}

/**
 * A key of a page's catalogue in `lang`, Japanese when that language lacks it, the key itself when
 * the catalogue has none, with `{name}` placeholders filled.
 * @param {Readonly<Record<string, Words>>} catalogue
 * @param {Lang} lang
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 * @returns {string}
 */
export function translate(catalogue, lang, key, vars) {
  const w = catalogue[key];
  return format(w ? w[lang] || w.ja : key, vars);
}

/**
 * A vocabulary's words under a key prefix, for a page's catalogue: `prefixed('status.', STATUS_WORDS)`
 * gives `{ 'status.normal': { ja: '平常', en: 'Normal' }, … }`.
 * @param {string} prefix
 * @param {Readonly<Record<string, Words>>} vocabulary
 * @returns {Record<string, Words>}
 */
export function prefixed(prefix, vocabulary) {
  /** @type {Record<string, Words>} */
  const out = {};
  for (const [key, w] of Object.entries(vocabulary)) out[prefix + key] = w;
  return out;
}

/** @type {Readonly<Record<string, string>>} */
const MARKUP_ESCAPES = Object.freeze({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' });

/**
 * Text made safe inside HTML or XML markup, text or attribute in either quote: the one escape the
 * map's panels and charts and the server's CAP and Atom feeds use (issue 16: it was written four times).
 * @param {unknown} text
 * @returns {string}
 * @example esc('<b>"A&B"</b>') // '&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;'
 */
export function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => MARKUP_ESCAPES[c] ?? c);
}

/**
 * Fill `{name}` placeholders.
 * @param {string} template
 * @param {Record<string, string | number>} [vars]
 * @returns {string}
 * @example format('{n}分前', { n: 3 }) // "3分前"
 */
export function format(template, vars) {
  let s = template;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/**
 * A catalogue's words in one language: `{ key: { ja, en } }` → `{ key: text }`.
 * @template {string} K
 * @param {Readonly<Record<K, Words>>} catalogue
 * @param {Lang} lang
 * @returns {Record<K, string>}
 */
export function wordsIn(catalogue, lang) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [key, w] of Object.entries(/** @type {Record<string, Words>} */ (catalogue))) out[key] = w[lang];
  return /** @type {Record<K, string>} */ (out);
}

// --- constants the pages and the server share

/**
 * The service's time zone (contract: Japan Standard Time): the server's (services/core/time.ts),
 * and the pages' until /api/config's time_zone arrives.
 */
export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';

/**
 * The Leaflet the pages load from /vendor/leaflet-<version>/ (cached for a year, so the URL must
 * change with the version). package.json pins the same version exactly and the server refuses to
 * start when the installed one differs (services/api/create-api.ts).
 */
export const LEAFLET_VERSION = '1.9.4';

/**
 * A Leaflet file under its versioned path.
 * @param {'leaflet.js' | 'leaflet.css'} file
 * @returns {string}
 */
export function leafletUrl(file) {
  return `/vendor/leaflet-${LEAFLET_VERSION}/${file}`;
}

/** The service worker's URL: it learns Leaflet's version from its query (web/sw.js). */
export const SERVICE_WORKER_URL = `/sw.js?leaflet=${LEAFLET_VERSION}`;
