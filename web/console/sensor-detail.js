import { api, messageOf, statusOf } from './api.js';
import { clear, formatTime, h, toast } from './dom.js';
import { t } from './i18n.js';
import { credentialsPanel } from './credentials-panel.js';
import { loadPresetDefaults } from './presets.js';
import { sensorForm } from './sensor-form.js';
import { savePreset } from './sensor-new.js';
import { statusBadge } from './status-badge.js';

/**
 * One sensor: health, edit/move/retire, credentials rotate/revoke, set zero, calibration history.
 * @param {HTMLElement} view
 * @param {import('./api.js').Session} session
 * @param {string} id
 */
export async function renderSensorDetail(view, session, id) {
  const [{ sensors }, cal] = await Promise.all([api('GET', '/api/console/sensors'), api('GET', `/api/sensors/${encodeURIComponent(id)}/calibrations`)]);
  const s = sensors.find((/** @type {{ id: string }} */ x) => x.id === id);
  if (!s) {
    clear(view).append(h('p', { class: 'error' }, `unknown sensor ${id}`));
    return;
  }
  const canEdit = session.role !== 'staff';
  const message = h('p', { role: 'status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const secrets = h('div');
  const fail = (/** @type {unknown} */ err) => (error.textContent = statusOf(err) === 403 ? t('forbidden') : messageOf(err));

  const settings = await api('GET', `/api/sensors/${encodeURIComponent(id)}/alert-settings`).catch(() => null);
  const form = sensorForm(s, settings?.preset ?? '', await loadPresetDefaults());
  const editForm = h(
    'form',
    {
      id: 'sensor-edit',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        error.textContent = '';
        try {
          await api('PATCH', `/api/sensors/${encodeURIComponent(id)}`, form.read());
          await savePreset(id, form.chosenPreset());
          toast(t('saved'));
          await renderSensorDetail(view, session, id);
        } catch (err) {
          fail(err);
        }
      },
    },
    h('h2', {}, t('edit')),
    form.element,
    h('button', { type: 'submit', id: 'save' }, t('save')),
  );

  const rotate = async () => {
    if (!confirm(t('rotateConfirm'))) return;
    try {
      const res = await api('POST', `/api/sensors/${encodeURIComponent(id)}/credentials`);
      clear(secrets).append(credentialsPanel({ id, kind: s.kind, mqtt: res.mqtt }));
    } catch (err) {
      fail(err);
    }
  };
  const revoke = async () => {
    if (!confirm(t('revokeConfirm'))) return;
    try {
      await api('DELETE', `/api/sensors/${encodeURIComponent(id)}/credentials`);
      toast(t('revoked'));
      clear(secrets);
    } catch (err) {
      fail(err);
    }
  };
  const zero = async () => {
    if (!confirm(t('zeroConfirm'))) return;
    try {
      await api('POST', `/api/sensors/${encodeURIComponent(id)}/calibration/zero`);
      toast(t('saved'));
      await renderSensorDetail(view, session, id);
    } catch (err) {
      fail(err);
    }
  };

  const history = h('table', { id: 'calibrations' },
    h('thead', {}, h('tr', {}, ...['version', 'mountHeight', 'minRange', 'source', 'validFrom', 'setBy'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, ...cal.versions.map((/** @type {any} a calibration version (services/core/calibration.ts) */ v) => h('tr', {}, h('td', {}, `v${v.version}`), h('td', {}, v.mountHeightMm ?? '—'), h('td', {}, v.minRangeMm ?? '—'), h('td', {}, v.source, v.distanceMm !== null ? ` (${v.distanceMm} mm)` : ''), h('td', {}, formatTime(v.validFrom)), h('td', {}, v.setBy)))),
  );

  clear(view).append(
    h('p', {}, h('a', { href: '#/sensors' }, '← ', t('back'))),
    h('h1', {}, statusBadge(s), ' ', s.name, ' ', h('code', {}, s.id)),
    h('dl', { class: 'row' },
      h('div', {}, h('dt', {}, t('lastSeen')), h('dd', {}, formatTime(s.lastSeen))),
      h('div', {}, h('dt', {}, t('level')), h('dd', {}, s.levelCm === null ? '—' : `${s.levelCm} cm`)),
      h('div', {}, h('dt', {}, t('battery')), h('dd', {}, s.batteryV === null ? '—' : `${s.batteryV} V`)),
      h('div', {}, h('dt', {}, t('signal')), h('dd', {}, s.rssiDbm === null ? '—' : `${s.rssiDbm} dBm`)),
      h('div', {}, h('dt', {}, t('perHour')), h('dd', {}, String(s.readingsLastHour))),
      h('div', {}, h('dt', {}, t('rejected')), h('dd', {}, Object.entries(s.rejected).map(([r, n]) => `${r}: ${n}`).join(', ') || '0')),
    ),
    s.hasCredentials ? '' : h('p', { class: 'warn' }, t('noCredentials')), // Element.append writes null out as the text "null"
    message,
    error,
    canEdit
      ? h('div', { class: 'actions' },
          h('button', { type: 'button', id: 'rotate', onclick: rotate }, t('rotate')),
          h('button', { type: 'button', id: 'revoke', class: 'danger', onclick: revoke }, t('revoke')),
          s.kind === 'distance' ? h('button', { type: 'button', id: 'zero', class: 'secondary', onclick: zero }, t('zero')) : null,
        )
      : '',
    secrets,
    canEdit ? editForm : '',
    h('h2', {}, t('calibrations')),
    history,
  );
}
