// The city's own links for residents (issue 12): 避難情報, ハザードマップ, 避難所 and the city's
// disaster page, from /api/config (PUBLIC_LINKS or DATA_DIR/public-links.json), in the footer and
// the sensor panel. The server accepts only https or paths on this site; checked again here.
import { getLang, onLangChange } from './i18n.js';

/** @type {Record<string, import('../shared/messages.js').Words>} */
const NAMES = {
  evacuation: { ja: '避難情報', en: 'Evacuation information' },
  hazard_map: { ja: 'ハザードマップ', en: 'Hazard map' },
  shelters: { ja: '避難所', en: 'Shelters' },
  disaster_page: { ja: '市の防災情報', en: 'City disaster information' },
};
const HEADING = { ja: '防災リンク', en: 'Disaster information' };

/** @param {{kind: string, url: string, label?: string, label_en?: string}} link */
function labelOf(link) {
  const en = getLang() === 'en';
  if (en && link.label_en) return link.label_en;
  if (link.label && (!en || !NAMES[link.kind])) return link.label;
  const names = NAMES[link.kind];
  return names ? names[getLang()] : (link.label ?? link.url);
}

/** @param {string} url */
export function isSafeLinkUrl(url) {
  if (url.startsWith('/')) return !url.startsWith('//') && !/[\s\\]/.test(url);
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Fill `el` (a <nav>) with the links, and again on a language change. Hidden when there are none.
 * @param {HTMLElement} el
 * @param {{kind: string, url: string, label?: string, label_en?: string}[]} links
 */
export function renderCityLinks(el, links) {
  const safe = (links ?? []).filter((l) => typeof l?.url === 'string' && isSafeLinkUrl(l.url));
  function render() {
    el.hidden = safe.length === 0;
    // Only the footer's list is a landmark: two navigation landmarks with one name confuse screen readers (axe landmark-unique).
    if (el.tagName === 'NAV') el.setAttribute('aria-label', HEADING[getLang()]);
    const ul = document.createElement('ul');
    ul.className = 'city-links';
    for (const l of safe) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = l.url;
      a.dataset.kind = l.kind;
      a.textContent = labelOf(l);
      if (!l.url.startsWith('/')) a.rel = 'noopener';
      li.append(a);
      ul.append(li);
    }
    el.replaceChildren(ul);
  }
  onLangChange(render);
  render();
}
