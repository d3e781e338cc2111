import { api, messageOf, statusOf } from './api.js';
import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { credentialsPanel } from './credentials-panel.js';
import { loadPresetDefaults } from './presets.js';
import { sensorForm } from './sensor-form.js';

/**
 * Tell the alerts module which level names apply; a console without that module just skips it.
 * @param {string} id
 * @param {string} preset ''  for none
 */
export async function savePreset(id, preset) {
  if (!preset) return;
  await api('PUT', `/api/sensors/${encodeURIComponent(id)}/alert-settings`, { preset }).catch((err) => {
    if (statusOf(err) !== 404) throw err;
  });
}

/**
 * Register a sensor; on success its credentials are shown once.
 * @param {HTMLElement} view
 */
export async function renderSensorNew(view) {
  const form = sensorForm(undefined, '', await loadPresetDefaults());
  const error = h('p', { class: 'error', role: 'alert' });
  const result = h('div');
  const submit = h('button', { type: 'submit', id: 'register' }, t('register'));
  const el = h(
    'form',
    {
      id: 'sensor-new',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        try {
          const created = await api('POST', '/api/sensors', form.read());
          await savePreset(created.id, form.chosenPreset());
          clear(result).append(credentialsPanel(created), h('p', {}, h('a', { href: `#/sensor/${encodeURIComponent(created.id)}` }, created.id, ' →')));
          el.querySelector('fieldset')?.setAttribute('disabled', '');
          result.scrollIntoView();
        } catch (err) {
          error.textContent = messageOf(err);
          submit.disabled = false;
        }
      },
    },
    h('h1', {}, t('navNew')),
    form.element,
    error,
    submit,
  );
  clear(view).append(el, result);
}
