import { api } from './api.js';
import { clear, formatTime, h } from './dom.js';
import { t } from './i18n.js';
import { statusBadge } from './status-badge.js';

const POLL_MS = 30_000;

/**
 * @param {Record<string, number> | null | undefined} rejected
 */
function rejectedSummary(rejected) {
  const entries = Object.entries(rejected ?? {});
  if (!entries.length) return '0';
  return entries.map(([reason, n]) => `${reason}: ${n}`).join(', ');
}

/**
 * Battery as the device reports it: volts, or percent for LoRaWAN devices that report percent (issue 11).
 * @param {{ batteryV: number | null, batteryPct?: number | null }} s
 * @param {{ battery_pct?: number, battery_v?: number } | null | undefined} reported
 */
function batteryText(s, reported) {
  if (s.batteryV !== null) return `${s.batteryV} V`;
  if (s.batteryPct !== null && s.batteryPct !== undefined) return `${s.batteryPct} %`;
  if (reported?.battery_pct !== undefined) return `${reported.battery_pct} %`;
  if (reported?.battery_v !== undefined) return `${reported.battery_v} V`;
  return '—';
}

/**
 * One line per LoRaWAN integration: when it last spoke and what became of its messages, so a silent one is noticed.
 * @param {any[]} list GET /api/integrations (services/integrations)
 */
function integrationRows(list) {
  return list.map((i) =>
    h('tr', { dataset: { source: i.source } },
      h('td', {}, i.source),
      h('td', {}, i.last_uplink_at ? formatTime(i.last_uplink_at) : t('integrationNone')),
      h('td', {}, Object.entries(i.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k}: ${n}`).join(', ') || '0'),
    ),
  );
}

/**
 * Every sensor with its health at a glance (GET /api/console/sensors), refreshed every 30 s.
 * @param {HTMLElement} view
 * @param {import('./api.js').Session} session
 */
export function renderSensorList(view, session) {
  const body = h('tbody');
  const stamp = h('span', { class: 'muted' });
  const integrationBody = h('tbody');
  const integrationSection = h('section', { id: 'integrations', hidden: true },
    h('h2', {}, t('integrations')),
    h('table', {}, h('thead', {}, h('tr', {}, ...['integrations', 'integrationLast', 'integrationCounts'].map((k) => h('th', { scope: 'col' }, t(k))))), integrationBody),
  );
  async function load() {
    const [{ sensors }, lorawan] = await Promise.all([
      api('GET', '/api/console/sensors'),
      api('GET', '/api/integrations').catch(() => ({ integrations: [], batteries: {} })),
    ]);
    clear(integrationBody).append(...integrationRows(lorawan.integrations));
    integrationSection.hidden = lorawan.integrations.length === 0;
    clear(body);
    for (const s of sensors) {
      body.append(
        h('tr', { dataset: { sensorId: s.id } },
          h('td', {}, statusBadge(s)),
          h('td', {}, h('a', { href: `#/sensor/${encodeURIComponent(s.id)}` }, s.id)),
          h('td', {}, s.name, s.nameEn ? h('div', { class: 'muted' }, s.nameEn) : null, s.commissioning ? h('div', { class: 'muted', dataset: { commissioning: 'true' } }, t('notPublicYet')) : null),
          h('td', {}, formatTime(s.lastSeen), s.connected ? h('div', { class: 'muted' }, t('connected')) : null),
          h('td', {}, s.levelCm === null ? '—' : `${s.levelCm} cm`),
          h('td', {}, batteryText(s, lorawan.batteries[s.id])),
          h('td', {}, s.rssiDbm === null ? '—' : `${s.rssiDbm} dBm`, s.snrDb !== null && s.snrDb !== undefined ? h('div', { class: 'muted' }, `SNR ${s.snrDb} dB`) : null),
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
    integrationSection,
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
