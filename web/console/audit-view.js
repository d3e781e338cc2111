import { api } from './api.js';
import { clear, formatTime, h } from './dom.js';
import { currentLang, t } from './i18n.js';

/**
 * @param {unknown} value a before/after field of an audit entry
 */
function summary(value) {
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

/**
 * The audit log (admins): who changed what, when, before → after.
 * @param {HTMLElement} view
 */
export async function renderAudit(view) {
  const { entries } = await api('GET', '/api/audit?limit=500');
  clear(view).append(
    h('h1', {}, t('audit')),
    h('div', { class: 'scroll' },
      h('table', { id: 'audit-table' },
        h('thead', {}, h('tr', {}, ...['when', 'who', 'what', 'target', 'change'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, ...entries.map((/** @type {any} an audit entry of GET /api/audit */ e) =>
          h('tr', {},
            h('td', {}, formatTime(e.at)),
            h('td', {}, e.actor, e.address ? h('div', { class: 'muted' }, e.address) : null),
            // Said in words (issue 13), the action's code beside it for searching.
            h('td', {}, e.words ? h('div', { class: 'audit-words' }, currentLang() === 'en' ? e.words.en : e.words.ja) : null, h('div', { class: 'muted' }, h('code', {}, e.action))),
            h('td', {}, `${e.targetType} ${e.targetId}`),
            h('td', {}, h('code', {}, summary(e.before)), e.before && e.after ? ' → ' : '', h('code', {}, summary(e.after))),
          ),
        )),
      ),
    ),
  );
}
