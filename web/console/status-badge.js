import { h } from './dom.js';
import { t } from './i18n.js';

// Colour AND icon AND text, never colour alone (STYLE.md, front end).
/** @type {Record<string, string>} */
const ICONS = { normal: '✓', caution: '!', warning: '‼', danger: '✕', offline: '—', maintenance: '🔧', retired: '⏻' };
/** @type {Record<string, string>} */
const KEYS = { normal: 'statusNormal', caution: 'statusCaution', warning: 'statusWarning', danger: 'statusDanger', offline: 'statusOffline', maintenance: 'stateMaintenance', retired: 'stateRetired' };

/**
 * The badge for a sensor: its operating state wins over its water status when not active.
 * @param {{ state?: string, status: string }} sensor
 */
export function statusBadge(sensor) {
  const key = sensor.state && sensor.state !== 'active' ? sensor.state : sensor.status;
  return h('span', { class: `status status-${key}`, dataset: { status: key } }, h('span', { 'aria-hidden': 'true' }, ICONS[key] ?? '?'), t(KEYS[key] ?? key));
}
