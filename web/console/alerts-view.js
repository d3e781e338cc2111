import { api, messageOf, statusOf } from './api.js';
import { clear, formatTime, h, toast } from './dom.js';
import { currentLang, t } from './i18n.js';

/**
 * Active alerts with acknowledge (the alerts module's GET /api/alerts and
 * POST /api/alerts/{id}/ack). When that module is not installed the page
 * says so instead of failing.
 * @param {HTMLElement} view
 */
export async function renderAlerts(view) {
  const list = h('tbody');
  const note = h('p', { class: 'muted' });
  async function load() {
    let alerts;
    // Names, not ids (issue 13): staff know places, not sensor ids.
    const names = await fetch('/api/sensors', { credentials: 'same-origin' })
      .then((r) => r.json())
      .then((c) => new Map(c.features.map((/** @type {{ id: string, properties: { name: string } }} */ f) => [String(f.id), f.properties.name])))
      .catch(() => new Map());
    try {
      const body = await api('GET', '/api/alerts?active=true');
      alerts = Array.isArray(body) ? body : (body.alerts ?? body.items ?? []);
    } catch (err) {
      if (statusOf(err) === 404) {
        note.textContent = t('alertsUnavailable');
        clear(list);
        return;
      }
      throw err;
    }
    note.textContent = alerts.length ? '' : t('noAlerts');
    clear(list);
    for (const a of alerts) {
      const noteInput = h('input', { name: 'note', maxlength: 500, 'aria-label': t('note') });
      const ack = h('button', {
        type: 'button',
        onclick: async () => {
          try {
            await api('POST', `/api/alerts/${encodeURIComponent(a.id)}/ack`, noteInput.value.trim() ? { note: noteInput.value.trim() } : {});
            toast(t('acknowledged'));
            await load();
          } catch (err) {
            toast(messageOf(err));
          }
        },
      }, t('acknowledge'));
      list.append(
        h('tr', { dataset: { alertId: a.id } },
          h('td', {}, h('span', { class: `status status-${a.severity}` }, currentLang() === 'en' ? (a.level_name_en ?? a.severity) : (a.level_name ?? a.severity))),
          h('td', {}, h('a', { href: `#/sensor/${encodeURIComponent(a.sensor_id)}` }, names.get(a.sensor_id) ?? a.sensor_id)),
          h('td', {}, a.level_cm === null || a.level_cm === undefined ? '—' : `${a.level_cm} cm`),
          h('td', {}, formatTime(a.raised_at)),
          h('td', {}, a.acknowledged_at ? `${t('acknowledged')} ${formatTime(a.acknowledged_at)} ${a.acknowledged_by ?? ''}` : h('div', { class: 'actions' }, noteInput, ack)),
        ),
      );
    }
  }
  clear(view).append(
    h('h1', {}, t('alerts')),
    h('button', { type: 'button', class: 'secondary', onclick: () => load().catch((e) => toast(e.message)) }, t('refresh')),
    note,
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, ...['status', 'sensor', 'level', 'when', 'acknowledge'].map((k) => h('th', { scope: 'col' }, t(k))))), list)),
  );
  await load().catch((e) => (note.textContent = e.message));
}
