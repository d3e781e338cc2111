// A small horizontal gauge: where the current level sits between the thresholds.
import { esc } from '../shared/messages.js';
import { formatLevel, inSentence, t } from './i18n.js';

const W = 300;
const H = 30;
/** Band colours are the status colours (Okabe–Ito; docs/map.md). */
const BANDS = [
  ['normal', '#009E73'],
  ['caution', '#F0E442'],
  ['warning', '#E69F00'],
  ['danger', '#D55E00'],
];

/**
 * @param {number|null} levelCm
 * @param {{caution:number, warning:number, danger:number, standby?:number, plan_high_water?:number}} th
 * @param {number[]|null} [stages] a stage sensor's heights: its label says "20 cm 以上", not an exact level (issue 11)
 * @param {'road'|'river'} [site] a river gauge reads in metres with MLIT's level names (issue 12)
 */
export function renderLevelGauge(levelCm, th, stages, site) {
  // Issue 12: a river gauge's 水防団待機水位 and 計画高水位, where set, are ticks too (thinner, dashed).
  const extra = site === 'river' ? [th.standby, th.plan_high_water].filter((v) => typeof v === 'number') : [];
  const max = Math.max(th.danger * 1.4, (levelCm ?? 0) * 1.05, ...extra.map((v) => v * 1.05));
  // A river stage below the gauge datum (issue 12) sits at the left end.
  const x = (/** @type {number} */ v) => (Math.max(0, Math.min(v, max)) / max) * W;
  const edges = [0, th.caution, th.warning, th.danger, max];
  const bands = BANDS.map(([k, c], i) => {
    const x0 = x(/** @type {number} */ (edges[i]));
    const x1 = x(/** @type {number} */ (edges[i + 1]));
    return `<rect x="${x0.toFixed(1)}" y="8" width="${(x1 - x0).toFixed(1)}" height="12" fill="${c}" data-band="${k}"/>`;
  }).join('');
  const ticks = [th.caution, th.warning, th.danger]
    .map((v) => `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="6" y2="22" stroke="#000" stroke-width="1.5"/>`)
    .join('') +
    extra.map((v) => `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="4" y2="24" stroke="#000" stroke-width="1" stroke-dasharray="2 2"/>`).join('');
  const pointer =
    levelCm === null
      ? ''
      : `<path d="M${x(levelCm).toFixed(1)} 22 l-6 8 h12z" fill="#000"/><line x1="${x(levelCm).toFixed(1)}" x2="${x(levelCm).toFixed(1)}" y1="2" y2="24" stroke="#000" stroke-width="3"/>`;
  const m = (/** @type {number} */ cm) => formatLevel(cm, null, 'river');
  const riverLevels = () =>
    /** @type {const} */ (['standby', 'caution', 'warning', 'danger', 'planHighWater'])
      .map((k) => /** @type {const} */ ([k, th[k === 'planHighWater' ? 'plan_high_water' : k]]))
      .flatMap(([k, v]) => (typeof v === 'number' ? [`${inSentence(t(`riverLevel.${k}`))} ${m(v)}`] : []))
      .join(t('listSep'));
  const label = site === 'river'
    ? t('gaugeLabelRiverLevels', { level: levelCm === null ? '—' : m(levelCm), levels: riverLevels() })
    : stages && stages.length && levelCm !== null
    ? t('gaugeLabelStage', { level: formatLevel(levelCm, stages), c: th.caution, w: th.warning, d: th.danger })
    : t('gaugeLabel', { level: levelCm === null ? '—' : levelCm.toFixed(1), c: th.caution, w: th.warning, d: th.danger });
  return `<svg class="gauge" viewBox="-6 0 ${W + 12} ${H + 2}" role="img" aria-label="${esc(label)}"><rect x="0" y="8" width="${W}" height="12" fill="none" stroke="#000"/>${bands}${ticks}${pointer}</svg>`;
}
