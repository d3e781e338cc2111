/** Default zone for API times and the UI (contract): Japan Standard Time. */
export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
      fractionalSecondDigits: 3,
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * ISO 8601 with an explicit offset in `timeZone`, e.g. `2026-07-01T09:30:00.000+09:00`.
 * @example formatIso(0, 'Asia/Tokyo') === '1970-01-01T09:00:00.000+09:00'
 */
export function formatIso(ms: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  const local = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!, +parts.fractionalSecond!);
  const offsetMin = Math.round((local - ms) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${parts.fractionalSecond}${offset}`;
}

/** Parse an API time parameter: ISO 8601 with offset, or epoch ms. Undefined when neither. */
export function parseTimeParam(value: string): number | undefined {
  if (/^-?\d+$/.test(value)) return Number(value);
  if (!/([zZ]|[+-]\d{2}:?\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
