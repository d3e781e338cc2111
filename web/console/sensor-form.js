import { field, h } from './dom.js';
import { t } from './i18n.js';
import { mapPicker } from './map-picker.js';
import { PRESETS } from './presets.js';

function option(value, label, selected) {
  return h('option', { value, selected: selected || undefined }, label);
}

/**
 * The fields of a sensor, for registering (`sensor` undefined) or editing.
 * `read()` returns what the API takes: POST /api/sensors or PATCH /api/sensors/{id}.
 */
export function sensorForm(sensor, currentPreset = '') {
  const editing = sensor !== undefined;
  const s = sensor ?? { thresholds: PRESETS.road_underpass, intervalS: 600, kind: 'level', state: 'active' };
  const [idBox, id] = field(t('id'), { name: 'id', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}', autocomplete: 'off', value: s.id ?? '' });
  const [nameBox, name] = field(t('name'), { name: 'name', required: true, maxlength: 120, value: s.name ?? '' });
  const [nameEnBox, nameEn] = field(t('nameEn'), { name: 'nameEn', maxlength: 120, value: s.nameEn ?? '' });
  const [addressBox, address] = field(t('address'), { name: 'address', maxlength: 200, value: s.address ?? '' });
  const [latBox, lat] = field(t('lat'), { name: 'lat', type: 'number', step: 'any', min: -90, max: 90, required: true, value: s.lat ?? '' });
  const [lonBox, lon] = field(t('lon'), { name: 'lon', type: 'number', step: 'any', min: -180, max: 180, required: true, value: s.lon ?? '' });
  const [kindBox, kind] = field(t('kind'), { name: 'kind', tag: 'select' });
  kind.append(option('level', t('kindLevel'), s.kind === 'level'), option('distance', t('kindDistance'), s.kind === 'distance'));
  const [mountBox, mount] = field(t('mountHeight'), { name: 'mountHeightMm', type: 'number', min: 1, step: 1, value: s.mountHeightMm ?? '' });
  const [minBox, minRange] = field(t('minRange'), { name: 'minRangeMm', type: 'number', min: 0, step: 1, value: s.minRangeMm ?? '' });
  const distanceFields = h('div', { class: 'row' }, mountBox, minBox);
  const showDistance = () => (distanceFields.hidden = kind.value !== 'distance');
  kind.addEventListener('change', showDistance);
  showDistance();

  const [presetBox, preset] = field(t('preset'), { name: 'preset', tag: 'select' });
  preset.append(option('', t('presetCustom')), option('road_underpass', t('presetUnderpass'), currentPreset === 'road_underpass'), option('river_channel', t('presetRiver'), currentPreset === 'river_channel'));
  const [cautionBox, caution] = field(t('caution'), { name: 'caution', type: 'number', step: 'any', min: 0, value: s.thresholds.caution });
  const [warningBox, warning] = field(t('warning'), { name: 'warning', type: 'number', step: 'any', min: 0, value: s.thresholds.warning });
  const [dangerBox, danger] = field(t('danger'), { name: 'danger', type: 'number', step: 'any', min: 0, value: s.thresholds.danger });
  preset.addEventListener('change', () => {
    const p = PRESETS[preset.value];
    if (!p) return;
    caution.value = p.caution;
    warning.value = p.warning;
    danger.value = p.danger;
  });
  const [intervalBox, interval] = field(t('interval'), { name: 'intervalS', type: 'number', min: 10, max: 86400, step: 1, value: s.intervalS });
  const [stateBox, state] = field(t('state'), { name: 'state', tag: 'select' });
  state.append(option('active', t('stateActive'), s.state === 'active'), option('maintenance', t('stateMaintenance'), s.state === 'maintenance'), option('retired', t('stateRetired'), s.state === 'retired'));

  const element = h(
    'div',
    {},
    h('div', { class: 'row' }, editing ? null : idBox, nameBox, nameEnBox),
    addressBox,
    h('fieldset', {}, h('legend', {}, t('mapHint')), mapPicker({ lat, lon }), h('div', { class: 'row' }, latBox, lonBox)),
    h('div', { class: 'row' }, kindBox, intervalBox, editing ? stateBox : null),
    distanceFields,
    h('fieldset', {}, h('legend', {}, t('thresholds')), presetBox, h('div', { class: 'row' }, cautionBox, warningBox, dangerBox)),
  );

  const num = (input) => (input.value === '' ? undefined : Number(input.value));
  function read() {
    const out = {
      name: name.value.trim(),
      lat: num(lat),
      lon: num(lon),
      kind: kind.value,
      thresholds: { caution: num(caution), warning: num(warning), danger: num(danger) },
      intervalS: num(interval),
    };
    // Optional text: omitted when empty on create, cleared (null) on edit.
    for (const [key, input] of [['nameEn', nameEn], ['address', address]]) {
      const v = input.value.trim();
      if (v) out[key] = v;
      else if (editing) out[key] = null;
    }
    for (const [key, input] of [['mountHeightMm', mount], ['minRangeMm', minRange]]) {
      const v = kind.value === 'distance' ? num(input) : undefined;
      if (v !== undefined) out[key] = v;
      else if (editing && sensor[key] !== undefined) out[key] = null;
    }
    if (editing) out.state = state.value;
    else out.id = id.value.trim();
    return out;
  }
  /** The chosen preset (level names and alert radius, kept by the alerts module), or '' for custom. */
  const chosenPreset = () => preset.value;
  return { element, read, chosenPreset };
}
