// Place search over the list (issue 12): names and addresses, Japanese and English, as typed
// (NFKC, so full-width and half-width letters and digits match alike). Enter opens the first match.
import { onLangChange, t } from './i18n.js';

const norm = (/** @type {string} */ s) => s.normalize('NFKC').toLowerCase();

/**
 * @param {{ form: HTMLFormElement, input: HTMLInputElement, count: HTMLElement, listEl: HTMLElement,
 *           store: import('./sensor-store.js').SensorStore, onSelect: (id: string) => void }} deps
 */
export function createSearch(deps) {
  const { input, listEl, store } = deps;
  /** The words searched for each sensor, rebuilt when the sensors are (names rarely change). */
  /** @type {Map<string, string>} */
  let haystacks = new Map();

  /**
   * @param {import('./sensor-store.js').SensorView} s
   */
  function haystackOf(s) {
    let h = haystacks.get(s.id);
    if (h === undefined) haystacks.set(s.id, (h = norm([s.name, s.nameEn, s.address, s.addressEn].filter(Boolean).join(' '))));
    return h;
  }

  /**
   * @param {string} id
   * @param {string[]} words
   */
  function matches(id, words) {
    const s = store.get(id);
    return !!s && words.every((w) => haystackOf(s).includes(w));
  }

  function apply() {
    const words = norm(input.value).split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const li of /** @type {HTMLCollectionOf<HTMLElement>} */ (listEl.children)) {
      const id = /** @type {HTMLElement|null} */ (li.firstElementChild)?.dataset.sensorId;
      const hit = !words.length || (id !== undefined && matches(id, words));
      if (li.hidden === hit) li.hidden = !hit;
      if (hit) shown++;
    }
    deps.count.textContent = words.length ? (shown ? t('searchCount', { n: shown }) : t('searchNone')) : '';
    deps.count.hidden = !words.length;
  }

  input.addEventListener('input', apply);
  deps.form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
    const first = [...listEl.children].find((li) => !(/** @type {HTMLElement} */ (li).hidden));
    const id = /** @type {HTMLElement|null|undefined} */ (first?.firstElementChild)?.dataset.sensorId;
    if (input.value.trim() && id) deps.onSelect(id);
  });
  store.subscribe((change) => {
    if (change.full) haystacks = new Map();
    // After the list has placed its rows (it follows the store at most every 250 ms).
    if (input.value.trim()) setTimeout(apply, 300);
  });
  onLangChange(() => input.value.trim() && apply());
  return { apply };
}
