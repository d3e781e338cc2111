import { api, messageOf } from './api.js';
import { clear, h, toast } from './dom.js';
import { t } from './i18n.js';
import { isoToLocal, localToIso } from './history-view.js';
import { DEFAULT_TIME_ZONE } from '../shared/messages.js';

// The event report (issue 13): what the city files after a storm. Printed on A4 in Japanese
// (print stylesheet in console.css); the same numbers as CSV for the spreadsheet.

const clock = new Intl.DateTimeFormat('ja-JP', { timeZone: DEFAULT_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
const when = (/** @type {string | null | undefined} */ iso) => (iso ? clock.format(Date.parse(iso)) : '—');
const num = (/** @type {number | null | undefined} */ v) => (v === null || v === undefined ? '—' : String(v));

/**
 * @param {HTMLElement} view
 * @param {import('./api.js').Session} session
 */
export function renderReport(view, session) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const from = h('input', { id: 'r-from', type: 'datetime-local', value: params.get('from') ?? isoToLocal(Date.now() - 24 * 3600_000) });
  const to = h('input', { id: 'r-to', type: 'datetime-local', value: params.get('to') ?? isoToLocal(Date.now()) });
  const csv = h('a', { class: 'btn', id: 'report-csv', download: '' }, t('downloadCsv'));
  const doc = h('section', { id: 'report-doc', class: 'report-doc', lang: 'ja' });

  async function load() {
    const q = new URLSearchParams({ from: localToIso(from.value), to: localToIso(to.value) });
    csv.href = `/api/reports/event?${q}&format=csv`;
    const r = await api('GET', `/api/reports/event?${q}`);
    /** @typedef {{ sensor_id: string, readings: number, alerts_raised: number, alerts_acknowledged: number, minutes_to_ack: number[], closures: { since: string, lifted_at: string | null, reason: string }[], [k: string]: any }} ReportRow */
    const rows = /** @type {ReportRow[]} */ (r.sensors).filter((s) => s.readings > 0 || s.alerts_raised > 0 || s.closures.length > 0);
    clear(doc).append(
      h('h1', { class: 'report-title' }, '道路冠水・河川水位 事象報告書'),
      h('dl', { class: 'report-meta' },
        h('dt', {}, '対象期間'), h('dd', {}, `${when(r.from)} 〜 ${when(r.to)}`),
        h('dt', {}, '作成'), h('dd', {}, `${when(new Date().toISOString())}（${session.username}）`),
        h('dt', {}, '警報'), h('dd', { id: 'report-totals' }, `発生 ${r.totals.alerts_raised} 件、確認 ${r.totals.alerts_acknowledged} 件、確認までの時間 中央値 ${num(r.totals.median_minutes_to_ack)} 分・最長 ${num(r.totals.max_minutes_to_ack)} 分`),
        h('dt', {}, '通行止め'), h('dd', {}, `${r.totals.closures} 件`),
      ),
      h('table', { class: 'report-table', id: 'report-table' },
        h('thead', {}, h('tr', {}, ...['地点', 'ピーク水位', 'ピーク時刻', '注意以上（分）', '警戒以上（分）', '危険以上（分）', '警報 発生／確認', '確認まで（分）', '通行止め'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, ...rows.map((s) =>
          h('tr', { dataset: { sensorId: s.sensor_id } },
            h('th', { scope: 'row' }, s.name),
            h('td', { class: 'n' }, s.peak_cm === null ? '—' : `${s.peak_cm} cm`),
            h('td', {}, when(s.peak_at)),
            h('td', { class: 'n' }, num(s.minutes_above.caution)),
            h('td', { class: 'n' }, num(s.minutes_above.warning)),
            h('td', { class: 'n' }, num(s.minutes_above.danger)),
            h('td', { class: 'n' }, `${s.alerts_raised}／${s.alerts_acknowledged}`),
            h('td', { class: 'n' }, s.minutes_to_ack.length ? s.minutes_to_ack.join('、') : '—'),
            h('td', {}, s.closures.map((c) => `${when(c.since)}〜${c.lifted_at ? when(c.lifted_at) : '継続中'}（${c.reason}）`).join('／') || '—'),
          ))),
      ),
      h('p', { class: 'report-note' }, '時間は観測値から算出：各観測値は次の観測まで（最長で送信間隔の3倍まで）続いたものとして数えています。水位はセンサーの観測値であり、通行止めは市が設定したものです。'),
    );
  }

  clear(view).append(
    h('div', { class: 'no-print' },
      h('h1', {}, t('report')),
      h('form', { class: 'row', onsubmit: (/** @type {SubmitEvent} */ e) => (e.preventDefault(), load().catch((err) => toast(messageOf(err)))) },
        h('div', {}, h('label', { for: 'r-from' }, t('periodFrom')), from),
        h('div', {}, h('label', { for: 'r-to' }, t('periodTo')), to),
        h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'report-make' }, t('makeReport')), csv, h('button', { type: 'button', class: 'secondary', onclick: () => window.print() }, t('print'))),
      ),
    ),
    doc,
  );
  load().catch((err) => toast(messageOf(err)));
}
