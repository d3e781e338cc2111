// Tiny DOM helpers. Text always goes in as text nodes (never innerHTML), so
// sensor names and alert notes cannot inject markup.
import { DEFAULT_TIME_ZONE } from '../shared/messages.js';

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * h('button', { type: 'button', onclick: fn, class: 'x' }, 'text', child)
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs] attributes; `on…` functions become listeners, `dataset` an object
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value') /** @type {HTMLInputElement} */ (el).value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * @template {Element} E
 * @param {E} el
 * @returns {E}
 */
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

/**
 * A labelled input (or `tag: 'select'`); returns [wrapper, input].
 * @param {string} labelText
 * @param {Record<string, any>} [attrs]
 * @returns {[HTMLDivElement, HTMLInputElement]}
 */
export function field(labelText, attrs = {}) {
  const id = attrs.id ?? `f-${attrs.name}`;
  // A select reads and fills like an input here (value, append, required): typed as one.
  const input = attrs.tag === 'select' ? /** @type {HTMLInputElement} */ (/** @type {unknown} */ (h('select', { ...attrs, tag: undefined, id }))) : h('input', { ...attrs, id });
  return [h('div', {}, h('label', { for: id }, labelText), input), input];
}

/**
 * @param {string | number | null | undefined} iso
 */
export function formatTime(iso) {
  if (!iso) return '—';
  const d = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  return d.toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'ja-JP', { timeZone: DEFAULT_TIME_ZONE });
}
