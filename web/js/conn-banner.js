// The freshness banner: says plainly when what is on screen is not live.
import { formatClock, onLangChange, t } from './i18n.js';

/** How long "reconnected" stays visible before the banner hides. */
const BACK_MS = 3000;

/**
 * @param {HTMLElement} el the #banner element (role=status, so changes are announced)
 * @param {HTMLElement} el
 */
export function createConnBanner(el) {
  let mode = 'hidden';
  let since = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let hideTimer;

  function render() {
    el.hidden = mode === 'hidden';
    el.dataset.mode = mode;
    if (mode === 'down') el.textContent = t('bannerDown', { time: formatClock(since) });
    else if (mode === 'offline-copy') el.textContent = t('bannerOfflineCopy', { time: formatClock(since) });
    else if (mode === 'load-failed') el.textContent = t('bannerLoadFailed');
    else if (mode === 'back') el.textContent = t('bannerBack');
    else el.textContent = '';
  }

  /**
   * @param {string} next
   * @param {number} [at]
   */
  function show(next, at = Date.now()) {
    clearTimeout(hideTimer);
    if (next === mode) return;
    mode = next;
    since = at;
    render();
  }

  onLangChange(render);
  return {
    get mode() {
      return mode;
    },
    /**
     * The stream broke: data on screen is as of `lastLiveAt`.
     * @param {number} lastLiveAt
     */
    down(lastLiveAt) {
      if (mode === 'offline-copy') return; // already says "not live", with the older time
      show('down', lastLiveAt);
    },
    /**
     * Data came from the offline cache, saved at `savedAt`.
     * @param {number} savedAt
     */
    offlineCopy(savedAt) {
      show('offline-copy', savedAt);
    },
    loadFailed() {
      show('load-failed');
    },
    /** Live again: say so briefly, then hide. */
    live() {
      if (mode === 'hidden') return;
      if (mode === 'load-failed') return show('hidden');
      show('back');
      hideTimer = setTimeout(() => show('hidden'), BACK_MS);
    },
  };
}
