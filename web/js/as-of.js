// The page's "as of" time (issue 12): `16:05 現在` / `as of 16:05` in the header, so a screenshot
// forwarded on LINE still says when it was true. A time before today carries its date.
import { formatClock, formatDateTime, formatDay, getLang, onLangChange } from './i18n.js';

/** Kept here rather than in i18n.js: the two words belong to this one line. */
const WORDS = { ja: '{time} 現在', en: 'as of {time}' };

/**
 * `16:05 現在`, or `12/2 16:05 現在` when `ms` is not today in the service's time zone.
 * @param {number} ms the time the page's data was known to be current
 * @param {number} now server time now
 * @example formatAsOf(Date.parse('2026-07-01T16:05+09:00'), Date.parse('2026-07-01T16:06+09:00')) // "16:05 現在"
 */
export function formatAsOf(ms, now) {
  const time = formatDay(ms) === formatDay(now) ? formatClock(ms) : formatDateTime(ms);
  return WORDS[getLang()].replace('{time}', time);
}

/**
 * The header line. `set(ms, now)` when the data is known current at `ms`:
 * while the stream is live that is now; when it is down, the last moment it
 * was live; for an offline copy, when the copy was made.
 * @param {HTMLElement} el
 */
export function createAsOf(el) {
  let at = /** @type {number|null} */ (null);
  let now = 0;
  function render() {
    if (at === null) return;
    const text = formatAsOf(at, now);
    if (el.textContent !== text) el.textContent = text;
    el.dataset.at = String(at);
    el.hidden = false;
  }
  onLangChange(render);
  return {
    /** @param {number} ms @param {number} serverNow */
    set(ms, serverNow) {
      at = ms;
      now = serverNow;
      render();
    },
    get at() {
      return at;
    },
  };
}
