import type { SiteResponseInput } from './scenarios.ts';

/** One demo sensor: what `kansui sensor add` would register, and how its site floods. */
export interface DemoSite {
  register: {
    id: string;
    name: string;
    nameEn: string;
    address: string;
    lat: number;
    lon: number;
    thresholds?: { caution: number; warning: number; danger: number };
    mountHeightMm?: number;
    minRangeMm?: number;
    intervalS: number;
  };
  site: SiteResponseInput;
}

/**
 * The demo registers sensors with a 60 s reporting interval (offline after
 * 3 min of silence) because the simulator publishes every few seconds.
 */
const INTERVAL_S = 60;

/**
 * River channel gauges report stage above the channel bed, so their
 * thresholds are far above a road's 10/20/30 cm. These are illustrative
 * (150 / 250 / 350 cm), in the spirit of a river's 氾濫注意 / 避難判断 /
 * 氾濫危険 water levels, not the official levels of any station.
 */
const GAUGE_THRESHOLDS = { caution: 150, warning: 250, danger: 350 };

/**
 * Ten demo sensors in Kinokawa city (紀の川市), Wakayama, along the Kinokawa
 * river around 34.27°N 135.40°E: railway underpasses and low roads on the
 * north bank, a low embankment road on the south bank, a distance sensor on a
 * riverside road, and two river channel gauges. Positions are approximate
 * and chosen to look plausible on the map; they are not real installations.
 *
 * The river flows east → west, so the storm's peak reaches the eastern
 * (upstream) sites first: `lagS` grows westwards. Times are scenario seconds
 * (heavy-rain: 60 min to peak on small road catchments, 90 min on the river).
 */
export const DEMO_SITES: DemoSite[] = [
  {
    register: { id: 'kinokawa-nate-up', name: '名手駅前アンダーパス', nameEn: 'Nate Station underpass', address: '紀の川市名手市場', lat: 34.2796, lon: 135.4399, intervalS: INTERVAL_S },
    site: { peakRiseCm: 48, timeToPeakS: 3600, lagS: 0 },
  },
  {
    register: { id: 'kinokawa-kokawa-up', name: '粉河駅東アンダーパス', nameEn: 'Kokawa Station east underpass', address: '紀の川市粉河', lat: 34.2772, lon: 135.4083, intervalS: INTERVAL_S },
    site: { peakRiseCm: 55, timeToPeakS: 3600, lagS: 300 },
  },
  {
    register: { id: 'kinokawa-kokawa-bridge', name: '粉河大橋北詰 河川沿い道路', nameEn: 'Kokawa Bridge north end, riverside road', address: '紀の川市粉河', lat: 34.2628, lon: 135.4108, mountHeightMm: 3000, minRangeMm: 250, intervalS: INTERVAL_S },
    site: { peakRiseCm: 36, timeToPeakS: 4200, lagS: 600 },
  },
  {
    register: { id: 'kinokawa-gauge-kokawa', name: '紀の川 粉河水位観測所（デモ）', nameEn: 'Kinokawa river gauge, Kokawa (demo)', address: '紀の川市粉河', lat: 34.2612, lon: 135.4030, thresholds: GAUGE_THRESHOLDS, intervalS: INTERVAL_S },
    site: { baseCm: 80, peakRiseCm: 300, timeToPeakS: 5400, lagS: 300 },
  },
  {
    register: { id: 'kinokawa-fujisaki', name: '藤崎 県道低地部', nameEn: 'Fujisaki prefectural road dip', address: '紀の川市藤崎', lat: 34.2702, lon: 135.4222, intervalS: INTERVAL_S },
    site: { peakRiseCm: 26, timeToPeakS: 3600, lagS: 200 },
  },
  {
    register: { id: 'kinokawa-uchita-up', name: '打田駅前アンダーパス', nameEn: 'Uchita Station underpass', address: '紀の川市打田', lat: 34.2711, lon: 135.3952, intervalS: INTERVAL_S },
    site: { peakRiseCm: 52, timeToPeakS: 3600, lagS: 900 },
  },
  {
    register: { id: 'kinokawa-takefusa', name: '竹房橋北詰 低地道路', nameEn: 'Takefusa Bridge north end, low road', address: '紀の川市竹房', lat: 34.2596, lon: 135.3874, intervalS: INTERVAL_S },
    site: { peakRiseCm: 34, timeToPeakS: 4200, lagS: 1200 },
  },
  {
    register: { id: 'kinokawa-gauge-takefusa', name: '紀の川 竹房水位観測所（デモ）', nameEn: 'Kinokawa river gauge, Takefusa (demo)', address: '紀の川市竹房', lat: 34.2575, lon: 135.3930, thresholds: GAUGE_THRESHOLDS, intervalS: INTERVAL_S },
    site: { baseCm: 90, peakRiseCm: 285, timeToPeakS: 5400, lagS: 1200 },
  },
  {
    register: { id: 'kinokawa-momoyama', name: '桃山町 堤防道路', nameEn: 'Momoyama embankment road', address: '紀の川市桃山町', lat: 34.2548, lon: 135.3773, intervalS: INTERVAL_S },
    site: { peakRiseCm: 18, timeToPeakS: 4800, lagS: 1500 },
  },
  {
    register: { id: 'kinokawa-shimoisaka-up', name: '下井阪駅西アンダーパス', nameEn: 'Shimo-Isaka Station west underpass', address: '紀の川市下井阪', lat: 34.2707, lon: 135.3615, intervalS: INTERVAL_S },
    site: { peakRiseCm: 44, timeToPeakS: 3600, lagS: 1800 },
  },
];
