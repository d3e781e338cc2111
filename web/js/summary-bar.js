// One line that answers "is anything flooded?" at a glance: a count per status, worst first.
import { onLangChange, t } from './i18n.js';
import { DISPLAY_STATUSES, symbolSvg } from './sensor-store.js';

/**
 * Built once, then only the numbers change: rebuilding it on every live update
 * re-laid out the page under 100 readings/s (test/bench/map.bench.ts).
 * @param {HTMLElement} el
 * @param {import('./sensor-store.js').SensorStore} store
 */
export function createSummaryBar(el, store) {
  /** @type {Map<string, HTMLElement> | null} */
  let texts = null;
  const counts = Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, -1]));

  // Until the first data arrives the bar keeps saying "loading": zeros would read as "all clear".
  function build() {
    el.innerHTML = DISPLAY_STATUSES.map((s) => `<span class="count" data-status="${s}">${symbolSvg(s)}<span class="count-text"></span></span>`).join('');
    texts = new Map(DISPLAY_STATUSES.map((s) => [s, /** @type {HTMLElement} */ (el.querySelector(`[data-status="${s}"] .count-text`))]));
  }

  function render(force = false) {
    if (!store.size) {
      texts = null;
      el.textContent = t('summaryNone');
      return;
    }
    if (!texts) {
      build();
      force = true;
    }
    const next = Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, 0]));
    for (const s of store.all()) next[s.status]++;
    for (const s of DISPLAY_STATUSES) {
      if (!force && next[s] === counts[s]) continue;
      counts[s] = next[s];
      const span = /** @type {HTMLElement} */ (texts?.get(s));
      span.textContent = `${t(`status.${s}`)} ${t('summaryCount', { n: next[s] })}`;
      // Quiet statuses with nothing in them are hidden; danger and warning always show, even at 0.
      /** @type {HTMLElement} */ (span.parentElement).hidden = next[s] === 0 && s !== 'danger' && s !== 'warning';
    }
  }
  let loaded = store.size > 0;
  store.subscribe((change) => {
    if (change.full) loaded = true;
    if (loaded) render();
  });
  onLangChange(() => loaded && render(true));
  if (loaded) render(true);
}
