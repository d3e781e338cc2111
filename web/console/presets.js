// Threshold presets of the alerts issue (services/core/alerts/policy.ts PRESETS):
// road underpass 10/20/30 cm (one-coin road-flood sensors); river channel
// defaults only fill the form, each gauge has its own MLIT levels.
export const PRESETS = {
  road_underpass: { caution: 10, warning: 20, danger: 30 },
  river_channel: { caution: 100, warning: 150, danger: 200 },
};
