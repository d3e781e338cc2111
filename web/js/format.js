// Numbers and times as residents read them; times always in the service's zone (Asia/Tokyo).
import { getLang, t } from './i18n.js';

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

/** "23.5 cm", or the words for no data. */
export function formatLevel(levelCm) {
  return levelCm === null || levelCm === undefined ? t('noData') : `${levelCm.toFixed(1)} cm`;
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
