import { api } from './api.js';
import { clear, formatTime, h } from './dom.js';
import { t } from './i18n.js';
import { statusBadge } from './status-badge.js';

const POLL_MS = 30_000;

function rejectedSummary(rejected) {
  const entries = Object.entries(rejected ?? {});
  if (!entries.length) return '0';
  return entries.map(([reason, n]) => `${reason}: ${n}`).join(', ');
}

/** Every sensor with its health at a glance (GET /api/console/sensors), refreshed every 30 s. */
export function renderSensorList(view, session) {
  const body = h('tbody');
  const stamp = h('span', { class: 'muted' });
  async function load() {
    const { sensors } = await api('GET', '/api/console/sensors');
    clear(body);
    for (const s of sensors) {
      body.append(
        h('tr', { dataset: { sensorId: s.id } },
          h('td', {}, statusBadge(s)),
          h('td', {}, h('a', { href: `#/sensor/${encodeURIComponent(s.id)}` }, s.id)),
          h('td', {}, s.name, s.nameEn ? h('div', { class: 'muted' }, s.nameEn) : null),
          h('td', {}, formatTime(s.lastSeen), s.connected ? h('div', { class: 'muted' }, t('connected')) : null),
          h('td', {}, s.levelCm === null ? '—' : `${s.levelCm} cm`),
          h('td', {}, s.batteryV === null ? '—' : `${s.batteryV} V`),
          h('td', {}, s.rssiDbm === null ? '—' : `${s.rssiDbm} dBm`),
          h('td', {}, String(s.readingsLastHour)),
          h('td', {}, rejectedSummary(s.rejected), s.lastRejected ? h('div', { class: 'muted' }, s.lastRejected.detail) : null),
        ),
      );
    }
    stamp.textContent = formatTime(Date.now());
  }
  clear(view).append(
    h('h1', {}, t('navSensors')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => load() }, t('refresh')),
      session.role !== 'staff' ? h('a', { class: 'btn', href: '#/sensors/new' }, t('navNew')) : null,
      stamp,
    ),
    h('div', { class: 'scroll' },
      h('table', { id: 'sensor-table' },
        h('thead', {}, h('tr', {}, ...['status', 'id', 'name', 'lastSeen', 'level', 'battery', 'signal', 'perHour', 'rejected'].map((k) => h('th', { scope: 'col' }, t(k))))),
        body,
      ),
    ),
  );
  load().catch(() => {});
  const timer = setInterval(() => load().catch(() => {}), POLL_MS);
  return () => clearInterval(timer);
}
