// The alert presets' default levels, from the server's one definition (GET /api/alert-presets,
// services/core/alerts/policy.ts PRESETS; issue 16: no copy here). Road underpass 10/20/30 cm (one-coin
// road-flood sensors); a river channel's only fill the form, each gauge has its own MLIT levels.
import { api } from './api.js';

/** @typedef {{ caution: number, warning: number, danger: number }} Levels */

/** @type {Promise<Record<string, Levels>> | undefined} */
let loading;

/**
 * Each preset's default levels, fetched once; none when the server runs without the alerts module
 * (its 404): the form then starts empty and asks for every level.
 * @returns {Promise<Record<string, Levels>>}
 */
export function loadPresetDefaults() {
  loading ??= api('GET', '/api/alert-presets').then(
    (/** @type {{ presets: Record<string, { defaults: Levels }> }} */ body) => Object.fromEntries(Object.entries(body.presets).map(([name, p]) => [name, p.defaults])),
    () => {
      loading = undefined; // try again next time
      return {};
    },
  );
  return loading;
}
