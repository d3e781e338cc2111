// Level over time as inline SVG with the three threshold lines. No chart library: ~2 KB instead of ~60.
import { formatClock, formatDateTime, formatDay, formatMetres, t } from './i18n.js';
import { esc } from '../shared/messages.js';

const W = 340;
const H = 170;
const M = { left: 34, right: 58, top: 16, bottom: 22 };
/** Darker shades of the status hues so the labels keep ≥ 4.5:1 contrast on white (WCAG 2.1 SC 1.4.3). */
const THRESHOLD_COLOURS = { caution: '#6B5E00', warning: '#8A4F00', danger: '#A33A00', standby: '#4D4D4D', planHighWater: '#7A1F00' };

/**
 * A tidy step for an axis spanning `v` cm (5, 10, 50, 100 cm; 200, 500 cm for a large river's stages).
 * @param {number} v
 */
function niceStep(v) {
  return v <= 20 ? 5 : v <= 50 ? 10 : v <= 200 ? 50 : v <= 800 ? 100 : v <= 2000 ? 200 : 500;
}

/**
 * Axis label: cm for a road (`30`), metres with two decimals for a river gauge (issue 12:
 * `3.80`, `−0.50`), as 川の防災情報 shows stages; the unit stands at the top of the axis.
 * @param {number} v
 * @param {string} [site]
 */
export function axisLabel(v, site) {
  return site === 'river' ? formatMetres(v).replace(/\u00a0m$/, '') : String(Math.round(v));
}

/**
 * SVG markup for a level chart. A gap longer than 3 reporting intervals breaks
 * the line, so missing data is never drawn as if it had been measured.
 * @param {{ points: {t:number, v:number}[], from: number, to: number,
 *           thresholds: {caution:number, warning:number, danger:number, standby?:number, plan_high_water?:number}, intervalS: number,
 *           rangeLabel: string, days: boolean, stepped?: boolean, site?: string }} o
 *   `thresholds` as /api/sensors has them (a river gauge's `standby` and `plan_high_water` where set).
 */
export function renderLevelChart(o) {
  const { points, from, to, thresholds } = o;
  const river = o.site === 'river';
  // Issue 12: a river gauge's 水防団待機水位 and 計画高水位 are drawn too, where set.
  const lines = /** @type {('standby'|'caution'|'warning'|'danger'|'planHighWater')[]} */ (river ? ['standby', 'caution', 'warning', 'danger', 'planHighWater'] : ['caution', 'warning', 'danger'])
    .filter((k) => typeof thresholds[k === 'planHighWater' ? 'plan_high_water' : k] === 'number');
  const levelOf = (/** @type {'standby'|'caution'|'warning'|'danger'|'planHighWater'} */ k) => /** @type {number} */ (thresholds[k === 'planHighWater' ? 'plan_high_water' : k]);
  const maxV = Math.max(thresholds.danger * 1.2, ...lines.map((k) => levelOf(k) * 1.05), ...points.map((p) => p.v));
  // A river stage may be below the gauge datum: the axis then starts below 0 (a road's depth never does).
  const minV = Math.min(0, ...points.map((p) => p.v));
  const step = niceStep((maxV - minV) / 4);
  const bottom = Math.floor(minV / step) * step;
  const top = bottom + Math.max(4, Math.ceil((maxV - bottom) / step)) * step;
  const x = (/** @type {number} */ ms) => M.left + ((ms - from) / (to - from)) * (W - M.left - M.right);
  const y = (/** @type {number} */ v) => H - M.bottom - ((v - bottom) / (top - bottom)) * (H - M.top - M.bottom);
  const parts = [];
  // Horizontal grid and y labels; at most 6 lines.
  const every = Math.ceil((top - bottom) / step / 5);
  for (let v = bottom; v <= top + 1e-9; v += step * every) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`);
    parts.push(`<text class="axis" x="${M.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${axisLabel(v, o.site)}</text>`);
  }
  // Time ticks: every 6 h for a day, every day for a week, on local (service zone) clock boundaries.
  const tickMs = o.days ? 86_400_000 : 6 * 3600_000;
  const offset = 9 * 3600_000; // Asia/Tokyo has no DST: local midnight = UTC 15:00.
  for (let tick = Math.ceil((from + offset) / tickMs) * tickMs - offset; tick <= to; tick += tickMs) {
    const tx = x(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${tx}" x2="${tx}" y1="${M.top}" y2="${H - M.bottom}"/>`);
    parts.push(`<text class="axis" x="${tx}" y="${H - 6}" text-anchor="middle">${esc(o.days ? formatDay(tick) : formatClock(tick))}</text>`);
  }
  // Threshold lines, labelled at the right edge.
  for (const k of lines) {
    const ty = y(levelOf(k)).toFixed(1);
    const label = k === 'standby' || k === 'planHighWater' ? t(`chartLine.${k}`) : t(`status.${k}`);
    parts.push(`<line class="thr thr-${k}" x1="${M.left}" x2="${W - M.right}" y1="${ty}" y2="${ty}" stroke="${THRESHOLD_COLOURS[k]}"/>`);
    parts.push(`<text class="thr-label" x="${W - M.right + 3}" y="${(Number(ty) + 4).toFixed(1)}" fill="${THRESHOLD_COLOURS[k]}">${esc(label)}</text>`);
  }
  // The level line, broken at gaps.
  const gapMs = Math.max(3 * o.intervalS * 1000, o.days ? 2 * 1800_000 : 0);
  let d = '';
  let prev = -Infinity;
  let prevV = 0;
  for (const p of points) {
    const gap = p.t - prev > gapMs;
    // A stage sensor's level holds until the next report (issue 11): steps, not slopes between stages.
    if (o.stepped && !gap) d += `L${x(p.t).toFixed(1)} ${y(prevV).toFixed(1)}`;
    d += `${gap ? 'M' : 'L'}${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`;
    prev = p.t;
    prevV = p.v;
  }
  if (d) parts.push(`<path class="level" d="${d}"/>`);
  if (points.length === 1) {
    const p = /** @type {{t:number, v:number}} */ (points[0]);
    parts.push(`<circle class="level-dot" cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3"/>`);
  }
  let desc = t('chartEmpty');
  if (points.length) {
    const peak = points.reduce((a, b) => (b.v > a.v ? b : a));
    const last = /** @type {{t:number, v:number}} */ (points[points.length - 1]);
    const fmt = (/** @type {number} */ v) => (river ? formatMetres(v) : `${v.toFixed(1)} cm`);
    desc = t('chartDesc', { max: fmt(peak.v), at: formatDateTime(peak.t), last: fmt(last.v) });
  } else {
    parts.push(`<text class="empty" x="${(W / 2).toFixed(0)}" y="${(H / 2).toFixed(0)}" text-anchor="middle">${esc(t('chartEmpty'))}</text>`);
  }
  const title = t('chartTitle', { range: o.rangeLabel });
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${title}. ${desc}`)}">` +
    `<title>${esc(title)}</title><desc>${esc(desc)}</desc><text class="axis unit" x="4" y="10">${river ? 'm' : 'cm'}</text>${parts.join('')}</svg>`
  );
}
