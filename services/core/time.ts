/** Default zone for API times and the UI (contract): Japan Standard Time. Shared with the pages (issue 16). */
import { DEFAULT_TIME_ZONE } from '../../web/shared/messages.js';

export { DEFAULT_TIME_ZONE };

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
  const offsetMs = cachedOffsetMs(ms, timeZone);
  if (offsetMs !== undefined) {
    const d = new Date(ms + offsetMs);
    const year = d.getUTCFullYear();
    if (year >= 1000 && year <= 9999) {
      return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}${formatOffset(offsetMs / 60_000)}`;
    }
  }
  return formatIsoWithIntl(ms, timeZone);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function formatOffset(offsetMin: number): string {
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function intlParts(ms: number, timeZone: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) parts[p.type] = p.value;
  return parts;
}

/** Local wall time − UTC at `ms` in `timeZone`, in ms, from Intl. */
function intlOffsetMs(ms: number, timeZone: string): number {
  const parts = intlParts(ms, timeZone);
  return Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!, +parts.fractionalSecond!) - ms;
}

/** The reference implementation: Intl's parts for `ms`, ~10 µs a call. */
function formatIsoWithIntl(ms: number, timeZone: string): string {
  const parts = intlParts(ms, timeZone);
  const local = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!, +parts.fractionalSecond!);
  const offsetMin = Math.round((local - ms) / 60_000);
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${parts.fractionalSecond}${formatOffset(offsetMin)}`;
}

/**
 * Every reading on the SSE stream is formatted, so Intl on each one cost
 * ~12 µs of the ingest's budget (bench: pipeline). A zone's UTC offset is
 * constant for long stretches: look it up once per 15-minute UTC bucket
 * (offset changes happen on quarter hours in tzdata since the 1970s) and
 * use it only when it is the same at both ends of the bucket and a whole
 * number of minutes; anything else (a transition inside the bucket, LMT
 * offsets with seconds) takes the Intl path, so output is identical.
 */
const OFFSET_BUCKET_MS = 15 * 60_000;
const offsetCache = new Map<string, Map<number, number | null>>();

function cachedOffsetMs(ms: number, timeZone: string): number | undefined {
  if (!Number.isFinite(ms)) return undefined;
  let zone = offsetCache.get(timeZone);
  if (!zone) offsetCache.set(timeZone, (zone = new Map()));
  const bucket = Math.floor(ms / OFFSET_BUCKET_MS);
  let offset = zone.get(bucket);
  if (offset === undefined) {
    const start = bucket * OFFSET_BUCKET_MS;
    const a = intlOffsetMs(start, timeZone);
    const b = intlOffsetMs(start + OFFSET_BUCKET_MS - 1, timeZone);
    offset = a === b && a % 60_000 === 0 ? a : null;
    if (zone.size >= 4096) zone.clear(); // bounded: ~42 days of buckets per zone
    zone.set(bucket, offset);
  }
  return offset ?? undefined;
}

/**
 * The times an API parameter may name: years 1000 to 9999 with a day's margin
 * at each end. ECMAScript dates end at ±8.64e15 ms (ECMA-262 §21.4.1.22), and
 * a value near that edge was accepted and then thrown on by the arithmetic and
 * formatting after it (a default window of `to − 24 h`, the +09:00 offset):
 * a 500 with a stack for an anonymous GET (issue 10 #12). ISO 8601 writes
 * years 0000–9999 with four digits (§4.1.2.1); the margin keeps `from − 24 h`,
 * any zone offset (±14 h) and the report's look-back inside them.
 */
export const TIME_PARAM_MIN_MS = Date.UTC(1000, 0, 2);
export const TIME_PARAM_MAX_MS = Date.UTC(9999, 11, 30);

/** Parse an API time parameter: ISO 8601 with offset, or epoch ms. Undefined when neither or out of range. */
export function parseTimeParam(value: string): number | undefined {
  let ms: number;
  if (/^-?\d{1,20}$/.test(value)) ms = Number(value);
  else if (!/([zZ]|[+-]\d{2}:?\d{2})$/.test(value)) return undefined;
  else ms = Date.parse(value);
  return Number.isSafeInteger(ms) && ms >= TIME_PARAM_MIN_MS && ms <= TIME_PARAM_MAX_MS ? ms : undefined;
}
