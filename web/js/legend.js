// The legend (issue 12): for each kind of sensor on the map, every level with its symbol, its
// depth where the sensors share one, and what to do, in plain words.
//
// Road actions follow the depths the thresholds are set at (10 / 20 / 30 cm, services/core/sensor.ts):
// JAF's flooded-road tests found water at about 30 cm enough to stop a saloon car's engine, so 危険
// says "do not enter". River actions follow the Cabinet Office's evacuation guideline (避難情報に関する
// ガイドライン, 2021): 氾濫注意水位 ≈ alert level 2, 避難判断水位 ≈ level 3 (older people evacuate),
// 氾濫危険水位 ≈ level 4 (everyone leaves dangerous places).
import { getLang, onLangChange, t } from './i18n.js';

/** @typedef {import('../shared/messages.js').Words} Words */
import { DISPLAY_STATUSES, symbolSvg } from './sensor-store.js';

/** @type {Record<'road' | 'river', Record<string, Words>>} */
const ACTIONS = {
  road: {
    normal: { ja: '通行できます。雨の日は足元に気をつけてください。', en: 'Passable. Take care in the rain.' },
    caution: { ja: '路面に水があります。ゆっくり通り、深さに気をつけてください。', en: 'Water on the road. Go slowly and watch the depth.' },
    warning: { ja: '車は別の道へ。歩く人も水に入らないでください。', en: 'Drivers: use another road. On foot: keep out of the water.' },
    danger: { ja: '進入しないでください。車が止まってしまう深さです。', en: 'Do not enter. Deep enough to stop a car.' },
    offline: { ja: 'データが届いていません。現地の状況はわかりません。', en: 'No data is arriving. The situation on site is unknown.' },
    maintenance: { ja: '点検中です。表示の値は参考です。', en: 'Under maintenance. Values are for reference only.' },
  },
  river: {
    normal: { ja: '川の水位は平常です。', en: 'The river is at its normal level.' },
    caution: { ja: '川に近づかないでください。避難の準備を。', en: 'Keep away from the river. Get ready to evacuate.' },
    warning: { ja: '高齢の方や避難に時間のかかる方は避難してください。', en: 'Older people and those who need time: evacuate now.' },
    danger: { ja: '危険な場所から全員避難してください。', en: 'Everyone: leave dangerous places now.' },
    offline: { ja: 'データが届いていません。川の状況はわかりません。', en: 'No data is arriving. The river’s state is unknown.' },
    maintenance: { ja: '点検中です。表示の値は参考です。', en: 'Under maintenance. Values are for reference only.' },
  },
};
/** Issue 12: MLIT's two river levels that are not statuses, listed only where some gauge has them. */
const RIVER_EXTRA = {
  standby: { after: 'normal', symbol: 'normal', action: { ja: '水防団が出動に備える水位です。避難の目安ではありません。川の情報に注意してください。', en: 'Flood-fighting teams get ready. Not an evacuation level: keep following the river news.' } },
  planHighWater: { after: 'danger', symbol: 'danger', action: { ja: '堤防が耐えるよう設計された水位を超えています。ただちに命を守る行動を。', en: 'Above what the levees are built for. Act now to save your life.' } },
};
const HEADINGS = { road: { ja: '道路の冠水センサー', en: 'Road flood sensors' }, river: { ja: '河川の水位計', en: 'River gauges' } };
const SHARED = { ja: '（目安 {v}）', en: ' (about {v})' };
const VARIES = { ja: '深さはセンサーごとに違います。各センサーの画面で確認できます。', en: 'Depths differ per sensor; each sensor’s panel shows its own.' };

/**
 * The one threshold every sensor of this kind shares for `status` (or a river's `standby` / `planHighWater`), or null.
 * @param {import('./sensor-store.js').SensorView[]} sensors
 * @param {string} status
 */
function sharedLevel(sensors, status) {
  if (!['caution', 'warning', 'danger', 'standby', 'planHighWater'].includes(status)) return null;
  const key = /** @type {keyof import('./sensor-store.js').Thresholds} */ (status === 'planHighWater' ? 'plan_high_water' : status);
  const values = new Set(sensors.map((s) => s.thresholds?.[key]));
  if (values.size !== 1) return null;
  const [v] = values;
  if (typeof v !== 'number') return null;
  return sensors[0]?.site === 'river' ? `${(v / 100).toFixed(2)} m` : `${v} cm`;
}

/**
 * One legend row: the status symbol, the level's name (with its shared depth) and what to do.
 * @param {HTMLElement} li
 * @param {string} symbolStatus
 * @param {string} nameText
 * @param {string} actionText
 */
function fillRow(li, symbolStatus, nameText, actionText) {
  li.innerHTML = symbolSvg(symbolStatus);
  const text = document.createElement('span');
  const name = document.createElement('strong');
  name.textContent = nameText;
  const action = document.createElement('span');
  action.className = 'legend-action';
  action.textContent = actionText;
  text.append(name, document.createElement('br'), action);
  li.append(text);
}

/**
 * @param {HTMLElement} el the legend container (a <ul>)
 * @param {import('./sensor-store.js').SensorStore} store
 */
export function createLegend(el, store) {
  let lastKey = '';
  function render(force = false) {
    const en = getLang();
    const all = [...store.all()];
    const kinds = { road: all.filter((s) => s.site !== 'river'), river: all.filter((s) => s.site === 'river') };
    const shown = /** @type {('road'|'river')[]} */ (['road', 'river']).filter((k) => kinds[k].length || (k === 'road' && !all.length));
    // Which of a river's extra levels some gauge has (listed only then).
    const extras = /** @type {('standby'|'planHighWater')[]} */ (['standby', 'planHighWater']).filter((x) => kinds.river.some((s) => typeof s.thresholds?.[x === 'planHighWater' ? 'plan_high_water' : x] === 'number'));
    const key = `${en}|${extras.join(',')}|${shown.map((k) => [...DISPLAY_STATUSES, ...extras].map((s) => sharedLevel(kinds[k], s)).join(',')).join('|')}`;
    if (!force && key === lastKey) return;
    lastKey = key;
    el.replaceChildren();
    for (const kind of shown) {
      const head = document.createElement('li');
      head.className = 'legend-kind';
      head.textContent = HEADINGS[kind][en];
      el.append(head);
      let varies = false;
      for (const status of DISPLAY_STATUSES) {
        const li = document.createElement('li');
        li.dataset.status = status;
        li.dataset.kind = kind;
        const level = sharedLevel(kinds[kind], status);
        if (!level && ['caution', 'warning', 'danger'].includes(status) && kinds[kind].length) varies = true;
        // A river gauge's statuses in MLIT's words (issue 12), not a road's.
        const words = kind === 'river' && status !== 'offline' && status !== 'maintenance' ? `statusLongRiver.${status}` : `statusLong.${status}`;
        fillRow(li, status, t(words) + (level ? SHARED[en].replace('{v}', level) : ''), ACTIONS[kind][status][en]);
        el.append(li);
        for (const extra of kind === 'river' ? extras : []) {
          if (RIVER_EXTRA[extra].after !== status) continue;
          const sub = document.createElement('li');
          sub.dataset.status = RIVER_EXTRA[extra].symbol;
          sub.dataset.kind = kind;
          sub.dataset.level = extra;
          const shared = sharedLevel(kinds.river, extra);
          fillRow(sub, RIVER_EXTRA[extra].symbol, t(`statusLongRiver.${extra}`) + (shared ? SHARED[en].replace('{v}', shared) : ''), RIVER_EXTRA[extra].action[en]);
          el.append(sub);
        }
      }
      if (varies) {
        const note = document.createElement('li');
        note.className = 'legend-note';
        note.textContent = VARIES[en];
        el.append(note);
      }
    }
  }
  store.subscribe((change) => change.full && render());
  onLangChange(() => render(true));
  render(true);
}
