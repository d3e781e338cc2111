// Level over time as inline SVG with the three threshold lines. No chart library: ~2 KB instead of ~60.
import { formatClock, formatDateTime, formatDay, t } from './i18n.js';

const W = 340;
const H = 170;
const M = { left: 34, right: 58, top: 16, bottom: 22 };
/** Darker shades of the status hues so the labels keep ≥ 4.5:1 contrast on white (WCAG 2.1 SC 1.4.3). */
const THRESHOLD_COLOURS = { caution: '#6B5E00', warning: '#8A4F00', danger: '#A33A00' };

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

/** Round a maximum up to a tidy axis top (5, 10, 20, 50 … cm steps). */
function niceMax(v) {
  const step = v <= 20 ? 5 : v <= 50 ? 10 : v <= 200 ? 50 : 100;
  return Math.ceil(v / step) * step;
}

/**
 * SVG markup for a level chart. A gap longer than 3 reporting intervals breaks
 * the line, so missing data is never drawn as if it had been measured.
 * @param {{ points: {t:number, v:number}[], from: number, to: number,
 *           thresholds: {caution:number, warning:number, danger:number}, intervalS: number,
 *           rangeLabel: string, days: boolean, stepped?: boolean }} o
 */
export function renderLevelChart(o) {
  const { points, from, to, thresholds } = o;
  const maxV = Math.max(thresholds.danger * 1.2, ...points.map((p) => p.v));
  const top = niceMax(maxV);
  const x = (ms) => M.left + ((ms - from) / (to - from)) * (W - M.left - M.right);
  const y = (v) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const parts = [];
  // Horizontal grid and y labels.
  const step = top / 4;
  for (let i = 0; i <= 4; i++) {
    const v = i * step;
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`);
    parts.push(`<text class="axis" x="${M.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(v)}</text>`);
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
  for (const k of /** @type {const} */ (['caution', 'warning', 'danger'])) {
    const ty = y(thresholds[k]).toFixed(1);
    parts.push(`<line class="thr thr-${k}" x1="${M.left}" x2="${W - M.right}" y1="${ty}" y2="${ty}" stroke="${THRESHOLD_COLOURS[k]}"/>`);
    parts.push(`<text class="thr-label" x="${W - M.right + 3}" y="${(Number(ty) + 4).toFixed(1)}" fill="${THRESHOLD_COLOURS[k]}">${esc(t(`status.${k}`))}</text>`);
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
    desc = t('chartDesc', { max: peak.v.toFixed(1), at: formatDateTime(peak.t), last: last.v.toFixed(1) });
  } else {
    parts.push(`<text class="empty" x="${(W / 2).toFixed(0)}" y="${(H / 2).toFixed(0)}" text-anchor="middle">${esc(t('chartEmpty'))}</text>`);
  }
  const title = t('chartTitle', { range: o.rangeLabel });
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${title}. ${desc}`)}">` +
    `<title>${esc(title)}</title><desc>${esc(desc)}</desc><text class="axis unit" x="4" y="10">cm</text>${parts.join('')}</svg>`
  );
}
