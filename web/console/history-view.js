import { api, messageOf } from './api.js';
import { clear, formatTime, h, toast } from './dom.js';
import { currentLang, t } from './i18n.js';

// Alert history with filters and each alert's delivery log (issue 13, "after the storm").

/** @type {Record<string, string>} */
const KIND_KEYS = { flood: 'kindFlood', offline: 'kindOffline', low_battery: 'kindBattery', sensor_fault: 'kindFault' };

/**
 * `2026-07-01T16:05` (datetime-local, Japan time) → ISO 8601 with offset, as the API takes it.
 * @param {string} v
 */
export function localToIso(v) {
  return v ? `${v.length === 16 ? `${v}:00` : v}+09:00` : '';
}
/**
 * ISO or epoch → `2026-07-01T16:05` in Japan time, for a datetime-local input.
 * @param {number} ms
 */
export function isoToLocal(ms) {
  const d = new Date(ms + 9 * 3600_000);
  return d.toISOString().slice(0, 16);
}

/**
 * @param {string | null | undefined} a
 * @param {string | null | undefined} b
 */
function minutesBetween(a, b) {
  if (!a || !b) return '—';
  return `${Math.round((Date.parse(b) - Date.parse(a)) / 6000) / 10}`;
}

/**
 * @param {HTMLElement} view
 */
export async function renderHistory(view) {
  const { features } = await fetch('/api/sensors', { credentials: 'same-origin' }).then((r) => r.json());
  /** @typedef {{ id: string, properties: { name: string } }} Feature */
  const names = new Map(features.map((/** @type {Feature} */ f) => [String(f.id), f.properties.name]));
  const [fromWrap, from] = labelled('from', t('periodFrom'), { type: 'datetime-local', value: isoToLocal(Date.now() - 24 * 3600_000) });
  const [toWrap, to] = labelled('to', t('periodTo'), { type: 'datetime-local', value: isoToLocal(Date.now() + 60_000) });
  const sensor = h('select', { id: 'h-sensor', name: 'sensor' }, h('option', { value: '' }, t('all')), ...features.map((/** @type {Feature} */ f) => h('option', { value: f.id }, f.properties.name)));
  const severity = h('select', { id: 'h-severity', name: 'severity' }, h('option', { value: '' }, t('all')), ...['caution', 'warning', 'danger'].map((s) => h('option', { value: s }, `${t(s)} ${t('orAbove')}`)));
  const kind = h('select', { id: 'h-kind', name: 'kind' }, h('option', { value: '' }, t('all')), ...Object.entries(KIND_KEYS).map(([k, key]) => h('option', { value: k }, t(key))));
  const ackBy = h('input', { id: 'h-ack-by', name: 'acknowledged_by', maxlength: 64 });
  const body = h('tbody');
  const count = h('p', { class: 'muted', role: 'status' });

  async function load() {
    const q = new URLSearchParams({ limit: '1000' });
    if (from.value) q.set('from', localToIso(from.value));
    if (to.value) q.set('to', localToIso(to.value));
    if (sensor.value) q.set('sensor', sensor.value);
    if (severity.value) q.set('severity', severity.value);
    if (kind.value) q.set('kind', kind.value);
    if (ackBy.value.trim()) q.set('acknowledged_by', ackBy.value.trim());
    const { alerts } = await api('GET', `/api/alerts?${q}`);
    count.textContent = `${alerts.length} ${t('alertsCount')}`;
    clear(body);
    for (const a of alerts) {
      const detail = h('tr', { class: 'delivery-row', hidden: true }, h('td', { colspan: 8 }));
      // The server names every kind (level_name); our own words only where we have them, so a new kind never shows as a key.
      const level = a.kind === 'flood' || !KIND_KEYS[a.kind] ? (currentLang() === 'en' ? a.level_name_en : a.level_name) : t(KIND_KEYS[a.kind]);
      body.append(
        h('tr', { dataset: { alertId: a.id } },
          h('td', {}, formatTime(a.raised_at)),
          h('td', {}, names.get(a.sensor_id) ?? a.sensor_id),
          h('td', {}, h('span', { class: `status status-${a.kind === 'offline' ? 'offline' : a.peak_severity}` }, level), a.peak_severity !== a.severity ? h('div', { class: 'muted' }, `${t('peak')}: ${t(a.peak_severity)}`) : null),
          h('td', {}, a.acknowledged_by ? `${a.acknowledged_by} ${formatTime(a.acknowledged_at)}` : '—', a.ack_note ? h('div', { class: 'muted' }, a.ack_note) : null),
          h('td', {}, minutesBetween(a.raised_at, a.acknowledged_at)),
          h('td', {}, a.resolved_at ? formatTime(a.resolved_at) : t('active')),
          h('td', {}, h('button', { type: 'button', class: 'secondary deliveries-btn', onclick: () => toggleDeliveries(a.id, detail) }, t('deliveryLog'))),
        ),
        detail,
      );
    }
  }

  /**
   * @param {string} id
   * @param {HTMLElement} row
   */
  async function toggleDeliveries(id, row) {
    row.hidden = !row.hidden;
    if (row.hidden) return;
    const { deliveries } = await api('GET', `/api/alert-deliveries?alert=${encodeURIComponent(id)}&limit=1000`);
    const cell = row.firstElementChild;
    if (!cell) return;
    clear(cell).append(
      deliveries.length
        ? h('table', { class: 'deliveries' },
            h('thead', {}, h('tr', {}, ...['when', 'event', 'channel', 'target', 'attempt', 'outcome', 'latency'].map((k) => h('th', { scope: 'col' }, t(k))))),
            h('tbody', {}, ...deliveries.map((/** @type {any} a delivery log row (GET /api/alert-deliveries) */ d) =>
              h('tr', { dataset: { ok: String(d.ok) } },
                h('td', {}, formatTime(d.at)),
                h('td', {}, d.event),
                h('td', {}, d.channel),
                h('td', {}, d.target),
                h('td', {}, String(d.attempt)),
                h('td', {}, d.ok ? `✔ ${d.status ?? ''}` : `✕ ${d.error ?? d.status ?? ''}${d.final ? '' : ` (${t('willRetry')})`}`),
                h('td', {}, `${d.duration_ms} ms`),
              ))))
        : h('p', { class: 'muted' }, t('noDeliveries')),
    );
  }

  clear(view).append(
    h('h1', {}, t('history')),
    h('form', { class: 'row filters', onsubmit: (/** @type {SubmitEvent} */ e) => (e.preventDefault(), load().catch((err) => toast(messageOf(err)))) },
      fromWrap, toWrap,
      h('div', {}, h('label', { for: 'h-sensor' }, t('sensor')), sensor),
      h('div', {}, h('label', { for: 'h-severity' }, t('severity')), severity),
      h('div', {}, h('label', { for: 'h-kind' }, t('kind')), kind),
      h('div', {}, h('label', { for: 'h-ack-by' }, t('acknowledgedBy')), ackBy),
      h('div', {}, h('button', { type: 'submit', id: 'history-search' }, t('search'))),
    ),
    count,
    h('div', { class: 'scroll' }, h('table', { id: 'history-table' },
      h('thead', {}, h('tr', {}, ...['raised', 'sensor', 'level', 'acknowledged', 'minutesToAck', 'resolved', 'deliveryLog'].map((k) => h('th', { scope: 'col' }, t(k))))),
      body)),
  );
  await load();
}

/**
 * @param {string} name
 * @param {string} text
 * @param {Record<string, any>} attrs
 * @returns {[HTMLDivElement, HTMLInputElement]}
 */
function labelled(name, text, attrs) {
  const input = h('input', { id: `h-${name}`, name, ...attrs });
  return [h('div', {}, h('label', { for: `h-${name}` }, text), input), input];
}
