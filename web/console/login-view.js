import { api, statusOf } from './api.js';
import { clear, field, h } from './dom.js';
import { t } from './i18n.js';

/**
 * Sign-in form; resolves the session ({ username, role }) once signed in.
 * @param {HTMLElement} view
 * @param {(session: import('./api.js').Session) => void} onSignedIn
 */
export function renderLogin(view, onSignedIn) {
  const [userBox, username] = field(t('username'), { name: 'username', id: 'username', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const [pwBox, password] = field(t('password'), { name: 'password', id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const submit = h('button', { type: 'submit', id: 'sign-in' }, t('signIn'));
  const form = h(
    'form',
    {
      id: 'login',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        try {
          const session = await api('POST', '/api/session', { username: username.value.trim(), password: password.value });
          password.value = '';
          onSignedIn(session);
        } catch (err) {
          error.textContent = statusOf(err) === 429 ? t('throttled') : t('signInFailed');
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h1', {}, t('signIn')),
    userBox,
    pwBox,
    error,
    submit,
  );
  clear(view).append(form);
  username.focus();
}
