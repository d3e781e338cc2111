import { field, h } from './dom.js';
import { t } from './i18n.js';
import { mapPicker } from './map-picker.js';

/** Payload codecs kansui knows (services/core/codecs/index.ts). */
const CODECS = ['milesight-em500-udl', 'milesight-em310-udl', 'dragino-ldds75', 'dragino-ldds20', 'floodnet', 'json'];

/**
 * ms → `2026-07-01T18:00` in Japan time, what a datetime-local input shows (the service's zone, services/core/time.ts).
 * @param {number} ms
 */
function toLocalInput(ms) {
  return new Date(ms + 9 * 3600_000).toISOString().slice(0, 16);
}

/**
 * @param {string} value
 * @param {string} label
 * @param {boolean} [selected]
 */
function option(value, label, selected) {
  return h('option', { value, selected: selected || undefined }, label);
}

/**
 * The fields of a sensor, for registering (`sensor` undefined) or editing.
 * `read()` returns what the API takes: POST /api/sensors or PATCH /api/sensors/{id}.
 * `presets`: each alert preset's default levels (presets.js loadPresetDefaults).
 * @param {any} [sensor] a sensor of GET /api/console/sensors; none to register a new one
 * @param {string} [currentPreset]
 * @param {Record<string, import('./presets.js').Levels>} [presets]
 */
export function sensorForm(sensor, currentPreset = '', presets = {}) {
  const editing = sensor !== undefined;
  const s = sensor ?? { thresholds: presets.road_underpass ?? {}, intervalS: 600, kind: 'level', state: 'active' };
  const [idBox, id] = field(t('id'), { name: 'id', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}', autocomplete: 'off', value: s.id ?? '' });
  const [nameBox, name] = field(t('name'), { name: 'name', required: true, maxlength: 120, value: s.name ?? '' });
  const [nameEnBox, nameEn] = field(t('nameEn'), { name: 'nameEn', maxlength: 120, value: s.nameEn ?? '' });
  const [addressBox, address] = field(t('address'), { name: 'address', maxlength: 200, value: s.address ?? '' });
  const [addressEnBox, addressEn] = field(t('addressEn'), { name: 'addressEn', maxlength: 200, value: s.addressEn ?? '' });
  const [latBox, lat] = field(t('lat'), { name: 'lat', type: 'number', step: 'any', min: -90, max: 90, required: true, value: s.lat ?? '' });
  const [lonBox, lon] = field(t('lon'), { name: 'lon', type: 'number', step: 'any', min: -180, max: 180, required: true, value: s.lon ?? '' });
  // Issue 12: what the level means — depth above a road, or a river stage above the gauge datum.
  const [siteBox, site] = field(t('site'), { name: 'site', tag: 'select' });
  site.append(option('road', t('siteRoad'), (s.site ?? 'road') === 'road'), option('river', t('siteRiver'), s.site === 'river'));
  const [kindBox, kind] = field(t('kind'), { name: 'kind', tag: 'select' });
  kind.append(option('level', t('kindLevel'), s.kind === 'level'), option('distance', t('kindDistance'), s.kind === 'distance'), option('stage', t('kindStage'), s.kind === 'stage'));
  // Stage sensors and LoRaWAN devices (issue 11, docs/devices.md).
  const [stagesBox, stages] = field(t('stages'), { name: 'stages', pattern: '\\s*\\d+(\\.\\d+)?(\\s*,\\s*\\d+(\\.\\d+)?)*\\s*', autocomplete: 'off', value: (s.stages ?? []).join(',') });
  const showStages = () => (stagesBox.hidden = kind.value !== 'stage');
  kind.addEventListener('change', showStages);
  showStages();
  const [devEuiBox, devEui] = field(t('devEui'), { name: 'devEui', pattern: '[0-9A-Fa-f]{16}', autocomplete: 'off', value: s.devEui ?? '' });
  const [codecBox, codec] = field(t('codec'), { name: 'codec', tag: 'select' });
  codec.append(option('', t('codecNone'), !s.codec), ...CODECS.map((c) => option(c, c, s.codec === c)));
  const [jsonFieldBox, jsonField] = field(t('jsonField'), { name: 'jsonField', pattern: '(distance_mm|level_cm|wet_cm)=.+', autocomplete: 'off', value: s.jsonField ? `${s.jsonField.quantity}=${s.jsonField.path}` : '' });
  const showJson = () => (jsonFieldBox.hidden = codec.value !== 'json');
  codec.addEventListener('change', showJson);
  showJson();
  const [mountBox, mount] = field(t('mountHeight'), { name: 'mountHeightMm', type: 'number', min: 1, step: 1, value: s.mountHeightMm ?? '' });
  const [minBox, minRange] = field(t('minRange'), { name: 'minRangeMm', type: 'number', min: 0, step: 1, value: s.minRangeMm ?? '' });
  const distanceFields = h('div', { class: 'row' }, mountBox, minBox);
  const showDistance = () => (distanceFields.hidden = kind.value !== 'distance');
  kind.addEventListener('change', showDistance);
  showDistance();

  const [presetBox, preset] = field(t('preset'), { name: 'preset', tag: 'select' });
  preset.append(option('', t('presetCustom')), option('road_underpass', t('presetUnderpass'), currentPreset === 'road_underpass'), option('river_channel', t('presetRiver'), currentPreset === 'river_channel'));
  // River stages may be below the gauge datum (issue 12): no minimum of 0 then.
  const [cautionBox, caution] = field(t('caution'), { name: 'caution', type: 'number', step: 'any', min: -1000, value: s.thresholds.caution });
  const [warningBox, warning] = field(t('warning'), { name: 'warning', type: 'number', step: 'any', min: -1000, value: s.thresholds.warning });
  const [dangerBox, danger] = field(t('danger'), { name: 'danger', type: 'number', step: 'any', min: -1000, value: s.thresholds.danger });
  for (const input of [caution, warning, danger]) input.required = true;
  // Issue 12: a river gauge's 水防団待機水位 and 計画高水位 where the river administrator set them (optional).
  const [standbyBox, standby] = field(t('standby'), { name: 'standby', type: 'number', step: 'any', min: -1000, value: s.thresholds.standby ?? '' });
  const [hwlBox, hwl] = field(t('planHighWater'), { name: 'planHighWater', type: 'number', step: 'any', min: -1000, value: s.thresholds.planHighWater ?? '' });
  const riverFields = h('div', { class: 'row' }, standbyBox, hwlBox);
  const showRiver = () => {
    riverFields.hidden = site.value !== 'river';
    // A river gauge has no default levels (services/core/sensor.ts): the road's 10/20/30 cm are cleared, not kept.
    const road = presets.road_underpass;
    if (road && site.value === 'river' && Number(caution.value) === road.caution && Number(warning.value) === road.warning && Number(danger.value) === road.danger) {
      caution.value = warning.value = danger.value = '';
    }
  };
  site.addEventListener('change', showRiver);
  showRiver();
  preset.addEventListener('change', () => {
    const p = presets[preset.value];
    if (!p) return;
    caution.value = String(p.caution);
    warning.value = String(p.warning);
    danger.value = String(p.danger);
  });
  const [intervalBox, interval] = field(t('interval'), { name: 'intervalS', type: 'number', min: 10, max: 86400, step: 1, value: s.intervalS });
  const [stateBox, state] = field(t('state'), { name: 'state', tag: 'select' });
  state.append(option('active', t('stateActive'), s.state === 'active'), option('maintenance', t('stateMaintenance'), s.state === 'maintenance'), option('retired', t('stateRetired'), s.state === 'retired'));
  // Issue 12: maintenance has a reason and an expected end, which residents see with the last reading.
  const [mReasonBox, mReason] = field(t('maintenanceReason'), { name: 'maintenanceReason', maxlength: 200, value: s.maintenanceReason ?? '' });
  const [mUntilBox, mUntil] = field(t('maintenanceUntil'), { name: 'maintenanceUntil', type: 'datetime-local', value: s.maintenanceUntil ? toLocalInput(s.maintenanceUntil) : '' });
  const maintenanceFields = h('div', { class: 'row' }, mReasonBox, mUntilBox);
  const showMaintenance = () => (maintenanceFields.hidden = state.value !== 'maintenance');
  state.addEventListener('change', showMaintenance);
  showMaintenance();
  // Issue 12: a new sensor is public from its first valid reading; a technician may publish it sooner.
  const publishNow = h('input', { type: 'checkbox', id: 'f-publish', name: 'publish' });
  const publishBox = !editing || s.commissioning ? h('div', {}, h('label', { for: 'f-publish' }, publishNow, ' ', t(editing ? 'publishNowPending' : 'publishNow'))) : null;

  const element = h(
    'div',
    {},
    h('div', { class: 'row' }, editing ? null : idBox, nameBox, nameEnBox),
    h('div', { class: 'row' }, addressBox, addressEnBox),
    h('fieldset', {}, h('legend', {}, t('mapHint')), mapPicker({ lat, lon }), h('div', { class: 'row' }, latBox, lonBox)),
    h('div', { class: 'row' }, siteBox, kindBox, intervalBox, editing ? stateBox : null),
    editing ? maintenanceFields : null,
    publishBox,
    distanceFields,
    stagesBox,
    h('fieldset', {}, h('legend', {}, t('lorawan')), h('div', { class: 'row' }, devEuiBox, codecBox), jsonFieldBox),
    h('fieldset', {}, h('legend', {}, t('thresholds')), presetBox, h('div', { class: 'row' }, cautionBox, warningBox, dangerBox), riverFields),
  );

  const num = (/** @type {HTMLInputElement} */ input) => (input.value === '' ? undefined : Number(input.value));
  function read() {
    /** @type {Record<string, any>} the body of POST /api/sensors or PATCH /api/sensors/{id} */
    const out = {
      name: name.value.trim(),
      lat: num(lat),
      lon: num(lon),
      kind: kind.value,
      site: site.value,
      thresholds: {
        caution: num(caution), warning: num(warning), danger: num(danger),
        ...(site.value === 'river' && num(standby) !== undefined && { standby: num(standby) }),
        ...(site.value === 'river' && num(hwl) !== undefined && { planHighWater: num(hwl) }),
      },
      intervalS: num(interval),
    };
    // Optional text: omitted when empty on create, cleared (null) on edit.
    for (const [key, input] of /** @type {[string, HTMLInputElement][]} */ ([['nameEn', nameEn], ['address', address], ['addressEn', addressEn]])) {
      const v = input.value.trim();
      if (v) out[key] = v;
      else if (editing) out[key] = null;
    }
    for (const [key, input] of /** @type {['mountHeightMm' | 'minRangeMm', HTMLInputElement][]} */ ([['mountHeightMm', mount], ['minRangeMm', minRange]])) {
      const v = kind.value === 'distance' ? num(input) : undefined;
      if (v !== undefined) out[key] = v;
      else if (editing && sensor[key] !== undefined) out[key] = null;
    }
    // Optional LoRaWAN and stage fields: omitted when empty on create, cleared (null) on edit.
    const stageList = kind.value === 'stage' ? stages.value.split(',').map((v) => v.trim()).filter(Boolean).map(Number) : [];
    const m = /^(distance_mm|level_cm|wet_cm)=(.+)$/.exec(jsonField.value.trim());
    const optional = {
      stages: stageList.length ? stageList : undefined,
      devEui: devEui.value.trim() || undefined,
      codec: codec.value || undefined,
      jsonField: codec.value === 'json' && m ? { quantity: m[1], path: m[2] } : undefined,
    };
    for (const [key, v] of Object.entries(optional)) {
      if (v !== undefined) out[key] = v;
      else if (editing && sensor[key] !== undefined) out[key] = null;
    }
    if (editing) out.state = state.value;
    else out.id = id.value.trim();
    if (editing && state.value === 'maintenance') {
      out.maintenanceReason = mReason.value.trim() || null;
      out.maintenanceUntil = mUntil.value ? Date.parse(`${mUntil.value}:00+09:00`) : null;
    } else if (editing) {
      if (sensor.maintenanceReason !== undefined) out.maintenanceReason = null;
      if (sensor.maintenanceUntil !== undefined) out.maintenanceUntil = null;
    }
    if (publishBox && publishNow.checked) out.commissioning = false;
    return out;
  }
  /** The chosen preset (level names and alert radius, kept by the alerts module), or '' for custom. */
  const chosenPreset = () => preset.value;
  return { element, read, chosenPreset };
}
