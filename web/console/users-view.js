import { api, messageOf } from './api.js';
import { clear, field, formatTime, h, toast } from './dom.js';
import { t } from './i18n.js';

const ROLES = ['admin', 'technician', 'staff'];

/**
 * @param {string} value
 */
function roleSelect(value) {
  return h('select', { 'aria-label': t('role') }, ...ROLES.map((r) => h('option', { value: r, selected: r === value || undefined }, r)));
}

/**
 * Users and their API tokens (admins).
 * @param {HTMLElement} view
 */
export async function renderUsers(view) {
  const error = h('p', { class: 'error', role: 'alert' });
  const secret = h('div');
  const fail = (/** @type {unknown} */ err) => (error.textContent = messageOf(err));
  const reload = () => renderUsers(view).catch(fail);
  const { users } = await api('GET', '/api/users');

  const rows = [];
  for (const u of users) {
    const role = roleSelect(u.role);
    role.addEventListener('change', () => api('PATCH', `/api/users/${u.id}`, { role: role.value }).then(() => toast(t('saved')), (e) => (fail(e), reload())));
    const toggle = h('button', { type: 'button', class: 'secondary', onclick: () => api('PATCH', `/api/users/${u.id}`, { disabled: !u.disabled }).then(reload, fail) }, u.disabled ? t('enable') : t('disable'));
    const pw = h('input', { type: 'password', autocomplete: 'new-password', minlength: 15, 'aria-label': t('newPassword'), placeholder: t('newPassword') });
    const reset = h('button', { type: 'button', class: 'secondary', onclick: () => api('PATCH', `/api/users/${u.id}`, { password: pw.value }).then(() => ((pw.value = ''), toast(t('saved'))), fail) }, t('resetPassword'));
    const tokenName = h('input', { 'aria-label': 'token name', placeholder: 'name', maxlength: 80 });
    const issue = h('button', {
      type: 'button',
      onclick: async () => {
        try {
          const res = await api('POST', `/api/users/${u.id}/tokens`, tokenName.value.trim() ? { name: tokenName.value.trim() } : {});
          clear(secret).append(h('div', { class: 'panel' }, h('p', { class: 'warn' }, t('tokenOnce')), h('code', { class: 'secret', 'data-testid': 'api-token' }, res.token)));
        } catch (err) {
          fail(err);
        }
      },
    }, t('newToken'));
    const { tokens } = await api('GET', `/api/users/${u.id}/tokens`);
    const tokenList = h('ul', {}, ...tokens.map((/** @type {{ id: number, name: string, createdAt: number, revokedAt?: number }} */ tk) =>
      h('li', {}, `${tk.name} #${tk.id} (${formatTime(tk.createdAt)})`, tk.revokedAt ? ` — ${t('revoked')}` : h('button', { type: 'button', class: 'link', onclick: () => api('DELETE', `/api/tokens/${tk.id}`).then(reload, fail) }, ' ', t('revokeToken'))),
    ));
    rows.push(h('tr', { dataset: { userId: u.id } }, h('td', {}, u.username), h('td', {}, role), h('td', {}, toggle), h('td', {}, pw, reset), h('td', {}, tokenList, tokenName, issue)));
  }

  const [nameBox, username] = field(t('username'), { name: 'new-username', required: true, pattern: '[a-z0-9][a-z0-9_.\\-]{1,31}' });
  const newRole = roleSelect('staff');
  const [pwBox, password] = field(t('newPassword'), { name: 'new-password', type: 'password', required: true, minlength: 15, autocomplete: 'new-password' });
  const add = h('form', {
    onsubmit: async (/** @type {SubmitEvent} */ e) => {
      e.preventDefault();
      try {
        await api('POST', '/api/users', { username: username.value.trim(), role: newRole.value, password: password.value });
        await reload();
      } catch (err) {
        fail(err);
      }
    },
  }, h('h2', {}, t('addUser')), h('div', { class: 'row' }, nameBox, h('div', {}, h('label', {}, t('role')), newRole), pwBox), h('button', { type: 'submit' }, t('addUser')));

  clear(view).append(
    h('h1', {}, t('users')),
    error,
    secret,
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, ...['username', 'role', 'disabled', 'resetPassword', 'tokens'].map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows))),
    add,
  );
}
