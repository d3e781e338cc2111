// Tiny DOM helpers. Text always goes in as text nodes (never innerHTML), so
// sensor names and alert notes cannot inject markup.
import { DEFAULT_TIME_ZONE } from '../shared/messages.js';

/** h('button', { type: 'button', onclick: fn, class: 'x' }, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value') el.value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/**
 * The page's element with this id (index.html has it; without it the page cannot work).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;
/** @param {string} message */
export function toast(message) {
  const el = byId('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

/** A labelled input; returns [wrapper, input]. */
export function field(labelText, attrs = {}) {
  const id = attrs.id ?? `f-${attrs.name}`;
  const input = attrs.tag === 'select' ? h('select', { ...attrs, tag: undefined, id }) : h('input', { ...attrs, id });
  return [h('div', {}, h('label', { for: id }, labelText), input), input];
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  return d.toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'ja-JP', { timeZone: DEFAULT_TIME_ZONE });
}
