// What the page shows for a sensor: the server's status, corrected locally for silence and maintenance.

/**
 * Sort order, most urgent first. Mirrors SEVERITY in services/core/status.ts
 * (offline ranks above caution so a silent sensor is not missed); maintenance
 * is known and announced, so it ranks just above normal.
 */
export const SEVERITY = { danger: 5, warning: 4, offline: 3, caution: 2, maintenance: 1, normal: 0 };

export const DISPLAY_STATUSES = ['danger', 'warning', 'caution', 'normal', 'offline', 'maintenance'];

/** Contract: offline after 3 × the reporting interval without a reading (services/core/limits.ts). */
export const OFFLINE_AFTER_INTERVALS = 3;

/**
 * The status to show now. The server's status is trusted except that silence
 * past `offlineAtMs` is shown as offline even before the server says so (its
 * sweep runs every few seconds and the stream may be down), using the server
 * clock estimated from the HTTP Date header.
 * @param {{state: string, serverStatus: string, observedAtMs: number|null, offlineAtMs: number|null}} s
 * @param {number} serverNow
 */
export function displayStatus(s, serverNow) {
  if (s.state === 'maintenance') return 'maintenance';
  if (s.observedAtMs === null || s.offlineAtMs === null || serverNow >= s.offlineAtMs) return 'offline';
  return s.serverStatus === 'offline' ? 'offline' : s.serverStatus;
}

/** Inline SVG for a status symbol (sprite in index.html). */
export function symbolSvg(status, cls = 'sym') {
  return `<svg class="${cls}" aria-hidden="true" focusable="false"><use href="#sym-${status}"></use></svg>`;
}

/** Change an element made by symbolSvg() to another status without re-creating it. */
export function setSymbol(svg, status) {
  svg.firstElementChild?.setAttribute('href', `#sym-${status}`);
}
