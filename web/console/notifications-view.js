import { api, messageOf } from './api.js';
import { clear, h, toast } from './dom.js';
import { t } from './i18n.js';
import { SERVICE_WORKER_URL } from '../shared/messages.js';

// Staff notification preferences (issue 13): my channels, sensors or areas, lowest severity and
// quiet hours (危険 always comes through); admins see everyone's and can set them.

/**
 * @param {string} base64url
 */
function keyBytes(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** This browser's push subscription for the console user (the public map's service worker shows the notices). */
async function subscribeThisBrowser() {
  const { key } = await api('GET', '/api/push/vapid-public-key');
  const reg = await navigator.serviceWorker.register(SERVICE_WORKER_URL);
  await navigator.serviceWorker.ready;
  if ((await Notification.requestPermission()) !== 'granted') throw new Error(t('notifyDenied'));
  const sub = (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
  return sub.toJSON();
}

/**
 * @param {HTMLElement} view
 * @param {import('./api.js').Session} session
 */
export async function renderNotifications(view, session) {
  const admin = session.role === 'admin';
  const [{ features }, mine, everyone] = await Promise.all([
    fetch('/api/sensors', { credentials: 'same-origin' }).then((r) => r.json()),
    api('GET', '/api/me/notifications'),
    admin ? api('GET', '/api/users/notifications') : Promise.resolve(null),
  ]);
  const channels = mine.channels;
  let editing = session.username;
  /** @type {PushSubscriptionJSON | null | undefined} undefined: keep; null: remove; else a new subscription */
  let pushChange;

  const email = h('input', { id: 'n-email', type: 'email', autocomplete: 'email' });
  const line = h('input', { id: 'n-line', maxlength: 64 });
  const pushState = h('span', { class: 'muted', id: 'n-push-state' });
  const allSensors = h('input', { type: 'checkbox', id: 'n-all' });
  const sensors = h('select', { id: 'n-sensors', multiple: true, size: 6 }, ...features.map((/** @type {{ id: string, properties: { name: string } }} */ f) => h('option', { value: f.id }, f.properties.name)));
  const areas = h('input', { id: 'n-areas', placeholder: t('areasHint') });
  const severity = h('select', { id: 'n-severity' }, ...['caution', 'warning', 'danger'].map((s) => h('option', { value: s }, `${t(s)} ${t('orAbove')}`)));
  const quietOn = h('input', { type: 'checkbox', id: 'n-quiet' });
  const quietStart = h('input', { type: 'time', id: 'n-quiet-start', value: '22:00' });
  const quietEnd = h('input', { type: 'time', id: 'n-quiet-end', value: '06:00' });
  const lang = h('select', { id: 'n-lang' }, h('option', { value: 'ja' }, '日本語'), h('option', { value: 'en' }, 'English'));
  const who = h('p', { id: 'n-who', class: 'muted' });

  /**
   * @param {string} username
   * @param {any} p the person's preferences (GET /api/users/{username}/notifications)
   */
  function fill(username, p) {
    editing = username;
    pushChange = undefined;
    who.textContent = `${t('editingFor')}: ${username}`;
    email.value = p.email ?? '';
    line.value = p.line ?? '';
    pushState.textContent = p.webpush ? `✔ ${t('pushOn')} (${p.webpush.origin ?? ''})` : t('pushOff');
    allSensors.checked = p.sensors[0] === '*';
    for (const o of sensors.options) o.selected = p.sensors.includes(o.value);
    areas.value = p.areas.join(', ');
    severity.value = p.min_severity;
    quietOn.checked = !!p.quiet_hours;
    if (p.quiet_hours) (quietStart.value = p.quiet_hours.start), (quietEnd.value = p.quiet_hours.end);
    lang.value = p.lang;
  }

  /**
   * @param {SubmitEvent} e
   */
  async function save(e) {
    e.preventDefault();
    const picked = [...sensors.selectedOptions].map((o) => o.value);
    const body = {
      email: channels.email && email.value.trim() ? email.value.trim() : null,
      line: channels.line && line.value.trim() ? line.value.trim() : null,
      sensors: allSensors.checked || picked.length === 0 ? ['*'] : picked,
      areas: areas.value.split(/[,、]/).map((s) => s.trim()).filter(Boolean),
      min_severity: severity.value,
      quiet_hours: quietOn.checked ? { start: quietStart.value, end: quietEnd.value } : null,
      lang: lang.value,
      ...(pushChange !== undefined && { webpush: pushChange }),
    };
    try {
      const path = editing === session.username ? '/api/me/notifications' : `/api/users/${encodeURIComponent(editing)}/notifications`;
      const r = await api('PUT', path, body);
      fill(editing, r.prefs);
      toast(t('saved'));
      if (admin) await renderNotifications(view, session);
    } catch (err) {
      toast(messageOf(err));
    }
  }

  const channelFields = [
    channels.email ? h('div', {}, h('label', { for: 'n-email' }, t('emailAddress')), email) : null,
    channels.line ? h('div', {}, h('label', { for: 'n-line' }, t('lineId')), line) : null,
    channels.webpush
      ? h('div', {}, h('span', { class: 'label' }, 'Web Push'), pushState, ' ',
          h('button', { type: 'button', class: 'secondary', id: 'n-push', onclick: async () => {
            try {
              pushChange = await subscribeThisBrowser();
              pushState.textContent = `✔ ${t('pushThisBrowser')}`;
            } catch (err) {
              toast(messageOf(err));
            }
          } }, t('pushSubscribe')),
          h('button', { type: 'button', class: 'link', onclick: () => ((pushChange = null), (pushState.textContent = t('pushOff'))) }, t('pushRemove')))
      : null,
  ].filter(Boolean);

  clear(view).append(
    h('h1', {}, t('notifications')),
    who,
    h('form', { id: 'notifications-form', onsubmit: save },
      h('fieldset', {}, h('legend', {}, t('channels')), ...(channelFields.length ? channelFields : [h('p', { class: 'muted' }, t('noChannels'))])),
      h('fieldset', {}, h('legend', {}, t('whatToReceive')),
        h('label', { class: 'inline' }, allSensors, t('allSensors')),
        h('div', {}, h('label', { for: 'n-sensors' }, t('sensorsPick')), sensors),
        h('div', {}, h('label', { for: 'n-areas' }, t('areas')), areas),
        h('div', {}, h('label', { for: 'n-severity' }, t('severity')), severity),
        h('div', {}, h('label', { for: 'n-lang' }, t('language')), lang)),
      h('fieldset', {}, h('legend', {}, t('quietHours')),
        h('label', { class: 'inline' }, quietOn, t('quietOn')),
        h('div', { class: 'row' }, h('div', {}, h('label', { for: 'n-quiet-start' }, t('periodFrom')), quietStart), h('div', {}, h('label', { for: 'n-quiet-end' }, t('periodTo')), quietEnd)),
        h('p', { class: 'muted' }, t('quietDanger'))),
      h('button', { type: 'submit', id: 'n-save' }, t('save')),
    ),
    everyone
      ? h('section', {}, h('h2', {}, t('everyone')),
          h('div', { class: 'scroll' }, h('table', { id: 'n-users' },
            h('thead', {}, h('tr', {}, ...['username', 'role', 'channels', 'severity', 'quietHours', ''].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))),
            h('tbody', {}, ...everyone.users.map((/** @type {any} a person and their preferences */ u) => h('tr', { dataset: { username: u.username } },
              h('td', {}, u.username, u.disabled ? h('span', { class: 'muted' }, ` (${t('disabled')})`) : null),
              h('td', {}, u.role),
              h('td', {}, [u.prefs.email && 'e-mail', u.prefs.line && 'LINE', u.prefs.webpush && 'Web Push'].filter(Boolean).join(', ') || '—'),
              h('td', {}, `${t(u.prefs.min_severity)} ${t('orAbove')}`),
              h('td', {}, u.prefs.quiet_hours ? `${u.prefs.quiet_hours.start}–${u.prefs.quiet_hours.end}` : '—'),
              h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => (fill(u.username, u.prefs), /** @type {HTMLElement | null} */ (view.querySelector('#n-email, #n-severity'))?.focus()) }, t('edit'))),
            ))))))
      : '', // Element.append writes null out as the text "null"
  );
  fill(session.username, mine.prefs);
}
