import { z } from 'zod';

/**
 * Fault injection for demos and tests: what a real sensor in the field does
 * wrong. Pure: parsing a `--fault` spec and turning one sample into the bytes
 * a faulty sensor would publish (or nothing).
 *
 * Spec syntax: `KIND[:key=value,…]`, e.g. `silence:at=30,for=60`,
 * `spike:at=10,cm=120`, `bad-payload:every=5`, `clock-skew:s=600`,
 * `low-battery:v=3.1`, `duplicate:every=4`. Add `sensor=ID` to hit one sensor only.
 * Times (`at`, `for`) are wall-clock seconds since the simulator started.
 */

const Seconds = z.coerce.number().min(0);
const Every = z.coerce.number().int().min(1);
const Target = { sensor: z.string().min(1).optional() };

export const FaultSchema = z.discriminatedUnion('kind', [
  /** Drop-out: publish nothing from `at` for `for` seconds (omit `for`: never again). Stays connected. */
  z.object({ kind: z.literal('silence'), at: Seconds.default(0), for: Seconds.optional(), ...Target }).strict(),
  /** Disconnect (network loss) from `at` for `for` seconds; QoS 1 readings taken meanwhile are queued and sent on reconnect. */
  z.object({ kind: z.literal('disconnect'), at: Seconds.default(0), for: Seconds.default(10), ...Target }).strict(),
  /** One reading at `at` reports `cm` (a splash, a bird, a car roof under an ultrasonic sensor). */
  z.object({ kind: z.literal('spike'), at: Seconds.default(0), cm: z.coerce.number().min(0).default(150), ...Target }).strict(),
  /** Every `every`-th reading is malformed, cycling through BAD_PAYLOAD_KINDS. */
  z.object({ kind: z.literal('bad-payload'), every: Every.default(5), ...Target }).strict(),
  /** Device clock off by `s` seconds (negative: behind). More than +300 s is refused by the service. */
  z.object({ kind: z.literal('clock-skew'), s: z.coerce.number().default(600), ...Target }).strict(),
  /** Report battery voltage `v` (a 3.6 V lithium cell under ~3.2 V is near its end). */
  z.object({ kind: z.literal('low-battery'), v: z.coerce.number().min(0).max(60).default(3.1), ...Target }).strict(),
  /** Every `every`-th reading is sent twice with the same ts (the service stores it once). */
  z.object({ kind: z.literal('duplicate'), every: Every.default(4), ...Target }).strict(),
]);
export type Fault = z.infer<typeof FaultSchema>;
export const FAULT_KINDS = FaultSchema.options.map((o) => o.shape.kind.value);

/** The malformed payloads `bad-payload` cycles through, each refused for a different reason. */
export const BAD_PAYLOAD_KINDS = ['malformed_json', 'invalid_schema', 'non_finite', 'level_out_of_range', 'payload_too_large', 'ts_in_future'] as const;

export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

/**
 * Parse one `--fault` value.
 *
 * @example
 * parseFault('silence:at=30,for=60') // { kind: 'silence', at: 30, for: 60 }
 */
export function parseFault(spec: string): Fault {
  const [kind, params = ''] = spec.split(/:(.*)/s, 2) as [string, string?];
  const fields: Record<string, string> = { kind };
  for (const pair of params.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new FaultSpecError(`--fault ${spec}: expected key=value, got "${pair}"`);
    fields[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const parsed = FaultSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'kind';
    const hint = where === 'kind' ? ` (one of ${FAULT_KINDS.join(', ')})` : '';
    throw new FaultSpecError(`--fault ${spec}: ${where}: ${issue?.message ?? 'invalid'}${hint}`);
  }
  return parsed.data;
}

/** One measurement a simulated sensor takes, before faults. */
export interface Sample {
  sensorId: string;
  kind: 'level' | 'distance';
  /** Needed for distance sensors. */
  mountHeightMm?: number;
  levelCm: number;
  /** True time of the measurement, epoch ms. */
  tsMs: number;
  seq: number;
  batteryV: number;
  rssiDbm: number;
}

/** What to publish for one sample: zero, one or two payloads. */
export interface Outgoing {
  payloads: string[];
  /** For logs and tests: which faults shaped it. */
  applied: Fault['kind'][];
}

function appliesTo(f: Fault, sensorId: string): boolean {
  return f.sensor === undefined || f.sensor === sensorId;
}

function within(elapsedS: number, at: number, forS: number | undefined): boolean {
  return elapsedS >= at && (forS === undefined || elapsedS < at + forS);
}

/** Whether `disconnect` faults say the sensor should be off the network now. */
export function isDisconnected(faults: readonly Fault[], sensorId: string, elapsedS: number): boolean {
  return faults.some((f) => f.kind === 'disconnect' && appliesTo(f, sensorId) && within(elapsedS, f.at, f.for));
}

function badPayload(n: number, s: Sample): string {
  const kind = BAD_PAYLOAD_KINDS[n % BAD_PAYLOAD_KINDS.length];
  switch (kind) {
    case 'malformed_json':
      return `{"ts": ${s.tsMs}, "level_cm": `;
    case 'invalid_schema':
      return JSON.stringify({ ts: s.tsMs, level_cm: String(s.levelCm) });
    case 'non_finite':
      return `{"ts": ${s.tsMs}, "level_cm": 1e400}`;
    case 'level_out_of_range':
      return JSON.stringify({ ts: s.tsMs, level_cm: -5 });
    case 'payload_too_large':
      return JSON.stringify({ ts: s.tsMs, level_cm: s.levelCm, pad: 'x'.repeat(5000) });
    default:
      return JSON.stringify({ ts: s.tsMs + 3_600_000, level_cm: s.levelCm });
  }
}

/** Where a sensor is in its run when it takes a sample. */
export interface SampleClock {
  /** Wall seconds since the simulator started. */
  elapsedS: number;
  /** `elapsedS` of this sensor's previous sample (−1 before the first), so a one-off fault fires exactly once. */
  previousS: number;
  /** Samples this sensor took before (drives `every=`). */
  count: number;
}

/** Turn a sample into what the sensor publishes under the active faults. */
export function shapePayload(sample: Sample, faults: readonly Fault[], clock: SampleClock): Outgoing {
  const { elapsedS, previousS, count } = clock;
  const applied: Fault['kind'][] = [];
  let levelCm = sample.levelCm;
  let tsMs = sample.tsMs;
  let batteryV = sample.batteryV;
  let duplicate = false;
  for (const f of faults) {
    if (!appliesTo(f, sample.sensorId)) continue;
    switch (f.kind) {
      case 'silence':
        if (within(elapsedS, f.at, f.for)) return { payloads: [], applied: ['silence'] };
        break;
      case 'bad-payload':
        if ((count + 1) % f.every === 0) return { payloads: [badPayload(Math.floor(count / f.every), sample)], applied: ['bad-payload'] };
        break;
      case 'spike':
        // Only the first sample at or after `at`.
        if (elapsedS >= f.at && previousS < f.at) {
          levelCm = f.cm;
          applied.push('spike');
        }
        break;
      case 'clock-skew':
        tsMs += Math.round(f.s * 1000);
        applied.push('clock-skew');
        break;
      case 'low-battery':
        batteryV = f.v;
        applied.push('low-battery');
        break;
      case 'duplicate':
        if ((count + 1) % f.every === 0) {
          duplicate = true;
          applied.push('duplicate');
        }
        break;
      case 'disconnect':
        break;
    }
  }
  const body: Record<string, number> = { ts: tsMs };
  if (sample.kind === 'distance') {
    const mount = sample.mountHeightMm ?? 0;
    body.distance_mm = Math.max(0, Math.round(mount - levelCm * 10));
  } else {
    body.level_cm = levelCm;
  }
  body.seq = sample.seq;
  body.battery_v = batteryV;
  body.rssi_dbm = sample.rssiDbm;
  const payload = JSON.stringify(body);
  return { payloads: duplicate ? [payload, payload] : [payload], applied };
}
