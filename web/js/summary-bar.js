// One line that answers "is anything flooded?" at a glance: a count per status, worst first.
import { onLangChange, t } from './i18n.js';
import { DISPLAY_STATUSES, symbolSvg } from './sensor-store.js';

export function createSummaryBar(el, store) {
  let last = '';
  function render() {
    const counts = Object.fromEntries(DISPLAY_STATUSES.map((s) => [s, 0]));
    for (const s of store.all()) counts[s.status]++;
    const key = DISPLAY_STATUSES.map((s) => counts[s]).join(',') + t('title');
    if (key === last) return;
    last = key;
    if (!store.size) {
      el.textContent = t('summaryNone');
      return;
    }
    el.innerHTML = DISPLAY_STATUSES.filter((s) => counts[s] > 0 || s === 'danger' || s === 'warning')
      .map((s) => `<span class="count" data-status="${s}">${symbolSvg(s)}<span>${t(`status.${s}`)} ${t('summaryCount', { n: counts[s] })}</span></span>`)
      .join('');
  }
  store.subscribe(render);
  onLangChange(() => ((last = ''), render()));
}
