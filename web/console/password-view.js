import { api, messageOf } from './api.js';
import { clear, field, h, toast } from './dom.js';
import { t } from './i18n.js';

/**
 * Change one's own password (every other session of the user ends).
 * @param {HTMLElement} view
 */
export function renderPassword(view) {
  const [curBox, current] = field(t('currentPassword'), { name: 'current', type: 'password', autocomplete: 'current-password', required: true });
  const [newBox, next] = field(t('newPassword'), { name: 'next', type: 'password', autocomplete: 'new-password', required: true, minlength: 15 });
  const error = h('p', { class: 'error', role: 'alert' });
  clear(view).append(
    h('form', {
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        try {
          await api('PUT', '/api/session/password', { currentPassword: current.value, newPassword: next.value });
          current.value = next.value = '';
          toast(t('saved'));
        } catch (err) {
          error.textContent = messageOf(err);
        }
      },
    }, h('h1', {}, t('changeOwnPassword')), curBox, newBox, error, h('button', { type: 'submit' }, t('save'))),
  );
}
