// "Notify me": Web Push for the sensors a resident picks. No account: the browser's push
// subscription is the only identity. Server contract: the alerts module (/api/push/*).
import { onLangChange, t } from './i18n.js';
import { sensorName } from './list-view.js';
import { esc } from '../shared/messages.js';

const STORAGE_KEY = 'kansui.push';

/**
 * VAPID keys are base64url; PushManager wants the raw bytes.
 * @param {string} base64url
 */
function keyBytes(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function loadSaved() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

/**
 * @param {{ button: HTMLButtonElement, dialog: HTMLDialogElement, store: any, onChange: () => void }} deps
 */
export function createNotify(deps) {
  const { button, dialog, store } = deps;
  /** @type {string | null} */
  let vapidKey = null;
  /** @type {{ sensors: string[], min_status: string, endpoint: string, id?: string, unsubscribe_token?: string } | null} */
  let saved = loadSaved();
  /** Sensors picked in this dialog session (starts from what is saved). */
  let picked = new Set(saved?.sensors?.filter((s) => s !== '*') ?? []);
  let scope = saved?.sensors?.includes('*') ? 'all' : 'picked';
  let message = '';

  const supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

  async function init() {
    if (!supported) return;
    try {
      const res = await fetch('/api/push/vapid-public-key');
      if (!res.ok) return; // 404: push is not configured on this server, so no button.
      vapidKey = (await res.json()).key;
      button.hidden = !vapidKey;
      deps.onChange();
    } catch {
      // Offline or no push: leave the button hidden.
    }
  }

  function render() {
    const min = saved?.min_status ?? 'warning';
    const pickedList = [...picked].map((id) => store.get(id)).filter(Boolean);
    dialog.innerHTML =
      `<form method="dialog" class="notify-form"><h2 id="notify-title">${esc(t('notifyTitle'))}</h2>` +
      `<p>${esc(t('notifyExplain'))}</p>` +
      `<fieldset><legend>${esc(t('notifyScope'))}</legend>` +
      `<label><input type="radio" name="scope" value="all" ${scope === 'all' ? 'checked' : ''}> ${esc(t('notifyAll'))}</label>` +
      `<label><input type="radio" name="scope" value="picked" ${scope === 'picked' ? 'checked' : ''}> ${esc(t('notifyPicked'))}</label>` +
      (pickedList.length
        ? `<ul class="picked">${pickedList.map((s) => `<li><label><input type="checkbox" name="sensor" value="${esc(s.id)}" checked> ${esc(sensorName(s))}</label></li>`).join('')}</ul>`
        : `<p class="hint">${esc(t('notifyNonePicked'))}</p>`) +
      `</fieldset><fieldset><legend>${esc(t('notifyMin'))}</legend>` +
      ['caution', 'warning', 'danger']
        .map((k) => `<label><input type="radio" name="min" value="${k}" ${min === k ? 'checked' : ''}> ${esc(t(`notifyMin${k[0].toUpperCase()}${k.slice(1)}`))}</label>`)
        .join('') +
      `</fieldset><p class="notify-msg" role="status">${esc(message)}</p><div class="dialog-actions">` +
      `<button type="button" class="btn primary" data-act="save">${esc(t(saved ? 'notifyUpdate' : 'notifySubscribe'))}</button>` +
      (saved ? `<button type="button" class="btn" data-act="stop">${esc(t('notifyUnsubscribe'))}</button>` : '') +
      `<button type="submit" class="btn" value="cancel">${esc(t('notifyCancel'))}</button></div></form>`;
  }

  async function subscription() {
    const reg = await navigator.serviceWorker.ready;
    const existing = await reg.pushManager.getSubscription();
    if (existing) return existing;
    if (!vapidKey) throw new Error('no VAPID key'); // the button only shows once the key is known (init)
    return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidKey) });
  }

  async function save() {
    const form = /** @type {HTMLFormElement} */ (dialog.querySelector('form'));
    const data = new FormData(form);
    scope = String(data.get('scope'));
    const chosen = data.getAll('sensor').map(String);
    const sensors = scope === 'all' ? ['*'] : chosen;
    if (!sensors.length) {
      message = t('notifyNonePicked');
      return render();
    }
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      message = t('notifyDenied');
      return render();
    }
    try {
      const sub = await subscription();
      const body = { subscription: sub.toJSON(), sensors, min_status: String(data.get('min')), lang: document.documentElement.lang === 'en' ? 'en' : 'ja' };
      const res = await fetch('/api/push/subscriptions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const created = await res.json().catch(() => ({}));
      saved = { sensors, min_status: body.min_status, endpoint: sub.endpoint, id: created.id, unsubscribe_token: created.unsubscribe_token };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
      picked = new Set(chosen);
      message = t('notifyDone');
      deps.onChange();
      render();
    } catch (err) {
      message = t('notifyFailed', { msg: /** @type {Error} */ (err).message });
      render();
    }
  }

  async function stop() {
    try {
      const reg = await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.getSubscription();
      const endpoint = sub?.endpoint ?? saved?.endpoint;
      if (endpoint) {
        await fetch('/api/push/subscriptions', { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ endpoint }) });
      }
      await sub?.unsubscribe();
    } catch {
      // Forget locally anyway; the server drops subscriptions the push service reports gone.
    }
    saved = null;
    picked.clear();
    localStorage.removeItem(STORAGE_KEY);
    message = t('notifyStopped');
    deps.onChange();
    render();
  }

  dialog.addEventListener('click', (e) => {
    const act = /** @type {HTMLElement} */ (e.target).closest('button')?.dataset.act;
    if (act === 'save') save();
    else if (act === 'stop') stop();
  });
  button.addEventListener('click', () => {
    message = '';
    render();
    dialog.showModal();
  });
  onLangChange(() => dialog.open && render());
  init();

  return {
    available: () => Boolean(vapidKey),
    isFollowing: (/** @type {string} */ id) => Boolean(saved && (saved.sensors.includes('*') || saved.sensors.includes(id))),
    /**
     * From a sensor panel: open the dialog with this sensor picked.
     * @param {string} id
     */
    follow(id) {
      picked.add(id);
      if (!saved?.sensors.includes('*')) scope = 'picked';
      message = '';
      render();
      dialog.showModal();
    },
  };
}
