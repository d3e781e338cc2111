import { h, toast } from './dom.js';
import { t } from './i18n.js';

/**
 * @param {string} text
 */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API needs a secure context; fall back to a selection copy.
    const area = h('textarea', { readonly: true }, text);
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  toast(t('copied'));
}

/**
 * @param {string} s
 */
function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/**
 * Credentials shown once (issue 5), with a mosquitto_pub example and the
 * JSON payload the sensor sends (docs/contract.md); the client id is the
 * sensor id, as the embedded broker requires.
 * @param {{ id: string, kind?: string, mqtt: { username: string, password: string, topic: string, host: string|null, port: number|null } }} created
 */
export function credentialsPanel(created) {
  const { mqtt } = created;
  const host = mqtt.host ?? location.hostname;
  const port = mqtt.port ?? 1883;
  const payload = JSON.stringify(created.kind === 'distance' ? { ts: new Date().toISOString(), distance_mm: 1500, battery_v: 3.6, rssi_dbm: -85 } : { ts: new Date().toISOString(), level_cm: 0, battery_v: 3.6, rssi_dbm: -85 });
  const command = `mosquitto_pub -h ${host} -p ${port} -q 1 -i ${shellQuote(mqtt.username)} -u ${shellQuote(mqtt.username)} -P ${shellQuote(mqtt.password)} -t ${shellQuote(mqtt.topic)} -m ${shellQuote(payload)}`;
  return h(
    'section',
    { class: 'panel', id: 'credentials', 'aria-labelledby': 'cred-title' },
    h('h2', { id: 'cred-title' }, t('credentials'), ': ', created.id),
    h('p', { class: 'warn' }, t('credentialsOnce')),
    h('dl', {},
      h('dt', {}, t('username')), h('dd', {}, h('code', { 'data-testid': 'mqtt-username' }, mqtt.username)),
      h('dt', {}, t('password')), h('dd', {}, h('code', { class: 'secret', 'data-testid': 'mqtt-password' }, mqtt.password)),
      h('dt', {}, 'Topic'), h('dd', {}, h('code', {}, mqtt.topic)),
    ),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'copy-password', onclick: () => copy(mqtt.password) }, t('copyPassword')),
      h('button', { type: 'button', class: 'secondary', id: 'copy-command', onclick: () => copy(command) }, t('copyCommand')),
      h('button', { type: 'button', class: 'secondary', id: 'copy-payload', onclick: () => copy(payload) }, t('copyPayload')),
    ),
    h('h3', {}, 'mosquitto_pub'),
    h('pre', { class: 'secret', 'data-testid': 'mosquitto-pub' }, command),
    h('h3', {}, 'JSON'),
    h('pre', { class: 'secret' }, payload),
  );
}
