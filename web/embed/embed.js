// The embeddable view (issue 12): the chosen sensors as a compact list (and, with &view=map, a small
// map above it), no page chrome, the same
// freshness rules as the map: the server's status, turned 欠測 locally past offline_at by the
// server's clock (sensor-store.js), live over the same stream, with the page's "as of" time.
import { fetchSensors, serverNow } from '../js/api.js';
import { formatAsOf } from '../js/as-of.js';
import { formatLevel, getLang, relativeTime, setLang, t } from '../js/i18n.js';
import { compareSensors, sensorName } from '../js/list-view.js';
import { createSensorStore } from '../js/sensor-store.js';
import { translate } from '../shared/messages.js';

/** Glyphs beside colour and word, so no status rests on colour alone (as the console's board). */
/** @type {Record<string, string>} */
const GLYPH = { normal: '✓', caution: '!', warning: '‼', danger: '✕', offline: '—', maintenance: '🔧' };
/** The embed's own messages, in the catalogue's form (web/shared/messages.js); the rest are the map's. */
const WORDS = {
  title: { ja: '冠水センサー', en: 'Flood sensors' },
  more: { ja: '冠水マップで詳しく見る', en: 'See the flood map' },
  none: { ja: '該当するセンサーはありません', en: 'No matching sensors' },
};
const word = (/** @type {keyof typeof WORDS} */ k) => translate(WORDS, getLang(), k);

const params = new URLSearchParams(location.search);
const langParam = params.get('lang');
if (langParam === 'en' || langParam === 'ja') setLang(langParam);
const ids = (params.get('sensors') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const area = (params.get('area') ?? '').trim();
const limit = Math.min(50, Math.max(1, Number(params.get('limit')) || 10));
/** `&view=map`: a small map of the same sensors above the list (embed-map.js, loaded only then). */
const withMap = params.get('view') === 'map';

/**
 * `?sensors=a,b` in that order, or `?area=` matched against names and addresses (ja and en), or the worst `limit`.
 * @param {import('../js/sensor-store.js').SensorView[]} all
 * @returns {import('../js/sensor-store.js').SensorView[]}
 */
function chosen(all) {
  if (ids.length) return ids.flatMap((id) => all.find((s) => s.id === id) ?? []);
  const list = area
    ? all.filter((s) => [s.name, s.nameEn, s.address, s.addressEn].some((v) => typeof v === 'string' && v.includes(area)))
    : all;
  return list.sort(compareSensors).slice(0, limit);
}

const store = createSensorStore({ now: serverNow });
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @type {number | null} */
let freshAt = null;

function render() {
  document.documentElement.lang = getLang();
  $('embed-title').textContent = word('title');
  document.title = `${word('title')} | kansui`;
  const full = /** @type {HTMLAnchorElement} */ ($('full'));
  full.textContent = word('more');
  if (ids.length === 1) full.href = `/#sensor=${encodeURIComponent(ids[0])}`;
  const now = serverNow();
  const rows = chosen([...store.all()]);
  $('rows').innerHTML = '';
  for (const s of rows) {
    const li = document.createElement('li');
    li.className = 'row';
    li.dataset.sensorId = s.id;
    li.dataset.status = s.status;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.dataset.status = s.status;
    badge.textContent = `${GLYPH[s.status] ?? ''} ${t(`status.${s.status}`)}`;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = sensorName(s);
    const side = document.createElement('span');
    side.className = 'side';
    const level = document.createElement('span');
    level.className = 'level';
    level.textContent = formatLevel(s.levelCm, s.stages, s.site);
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = ` ${relativeTime(s.observedAtMs, now)}`;
    side.append(level, time);
    li.append(badge, name, side);
    $('rows').append(li);
  }
  $('empty').hidden = rows.length > 0;
  $('empty').textContent = word('none');
  if (freshAt !== null) {
    $('as-of').textContent = formatAsOf(freshAt, now);
    $('as-of').hidden = false;
  }
  document.body.dataset.ready = 'true';
}

async function load() {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetchSensors();
      store.replaceAll(r.features);
      freshAt = r.cachedAt ?? serverNow();
      return render();
    } catch {
      await new Promise((res) => setTimeout(res, Math.min(2000 * 2 ** attempt, 30_000)));
    }
  }
}

/** @type {import('../js/live-stream.js').LiveStream | null} */
let live = null;
store.subscribe(() => freshAt !== null && render());
load().then(() => {
  if (withMap) import('./embed-map.js').then(({ mountEmbedMap }) => mountEmbedMap({ before: $('rows'), store, chosen: () => chosen([...store.all()]) }));
  import('../js/live-stream.js').then(({ connectLive }) => {
    live = connectLive({
      onReading: (e) => (store.applyReading(e), (freshAt = serverNow())),
      onStatus: (e) => store.applyStatus(e),
      onClosure: (e) => store.applyClosure(e),
      onResync: () => void load(),
      onState: () => {},
    });
  });
  // Relative times, the as-of line and local offline checks, as on the map.
  setInterval(() => {
    store.tick();
    if (live?.state === 'live') freshAt = serverNow();
    render();
  }, 15_000);
});
