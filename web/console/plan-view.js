import { api } from './api.js';
import { clear, h } from './dom.js';
import { t } from './i18n.js';

// Action-plan indicators (issue 13): map views per day and month (counted without cookies or
// addresses) and subscribers per channel, with CSV for the city's report.

/**
 * @param {HTMLElement} view
 */
export async function renderPlan(view) {
  const [days, months] = await Promise.all([api('GET', '/api/plan/indicators?by=day'), api('GET', '/api/plan/indicators?by=month')]);
  /**
   * @param {string} id
   * @param {{ period: string, map_views: number, subscribers_line: number | null, subscribers_webpush: number | null }[]} rows
   * @param {string} label
   */
  const table = (id, rows, label) =>
    h('table', { id },
      h('thead', {}, h('tr', {}, ...[label, t('planViews'), t('planLine'), t('planPush')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, h('td', {}, r.period), h('td', {}, String(r.map_views)), h('td', {}, r.subscribers_line ?? '—'), h('td', {}, r.subscribers_webpush ?? '—')))));
  clear(view).append(
    h('h1', {}, t('plan')),
    h('p', {}, `${t('planNow')}: LINE ${days.now.subscribers_line ?? '—'} · Web Push ${days.now.subscribers_webpush}`),
    h('p', { class: 'muted' }, t('planHow')),
    h('h2', {}, t('planByMonth')),
    h('div', { class: 'actions' }, h('a', { class: 'btn', href: '/api/plan/indicators?by=month&format=csv', download: '' }, t('downloadCsv'))),
    h('div', { class: 'scroll' }, table('plan-months', months.rows, t('planMonth'))),
    h('h2', {}, t('planByDay')),
    h('div', { class: 'actions' }, h('a', { class: 'btn', href: '/api/plan/indicators?by=day&format=csv', download: '' }, t('downloadCsv'))),
    h('div', { class: 'scroll' }, table('plan-days', days.rows.slice(-62).reverse(), t('planDay'))),
  );
}
