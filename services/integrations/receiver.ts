import { EventEmitter } from 'node:events';
import type { SensorRegistry } from '../core/ports.ts';
import type { RejectReason } from '../core/reading.ts';
import type { Sensor } from '../core/sensor.ts';
import { decideUplink, uplinkKey, type Uplink, type UplinkOutcome, type UplinkSource } from '../core/uplink.ts';
import type { Ingest } from '../ingest/create-ingest.ts';

export interface UplinkResult {
  outcome: UplinkOutcome;
  sensorId?: string;
  /** Why it was refused or ignored. */
  reason?: RejectReason | string;
  detail?: string;
}

export interface ReceiverEvents {
  /** Every uplink or network-server message, with what became of it. */
  uplink: [source: UplinkSource, result: UplinkResult, at: number];
  /** A device's battery known from something other than a reading (ChirpStack `status`, a refused frame). */
  battery: [sensorId: string, battery: { pct?: number; v?: number }, at: number];
}

export interface UplinkReceiver extends EventEmitter<ReceiverEvents> {
  /** Match the uplink to a sensor by DevEUI, decode it and hand it to the ingest. Never throws for bad input. */
  receive(uplink: Uplink): Promise<UplinkResult>;
  /** Count a message that was not an uplink of the documented shape, or an event kansui does not use. */
  count(source: UplinkSource, outcome: 'invalid' | 'ignored', detail: string): UplinkResult;
  /** ChirpStack `status`: keep the battery level as the sensor's battery. */
  status(source: UplinkSource, devEui: string, batteryPct: number | undefined, at: number): UplinkResult;
  /** The sensor registered with this DevEUI (any case). */
  sensorFor(devEui: string): Sensor | undefined;
  /** Last battery (percent or volts) each LoRaWAN sensor reported, from readings, refusals and status events. */
  readonly batteries: ReadonlyMap<string, { pct?: number; v?: number; at: number }>;
}

export interface ReceiverOptions {
  registry: SensorRegistry;
  ingest: Ingest;
  now?: () => number;
  /** How many recent uplink keys to remember for recognising a redelivery (default 50,000, ~5 MB). */
  rememberUplinks?: number;
}

/**
 * The one place every network-server adapter hands its uplinks to (issue 11):
 * DevEUI → sensor (unknown devices are refused and counted, never created),
 * redelivery → duplicate (the server's uplink id, else frame counter and
 * receive time), codec → native payload → the same ingest as MQTT readings.
 */
export function createUplinkReceiver(options: ReceiverOptions): UplinkReceiver {
  const { registry, ingest } = options;
  const now = options.now ?? Date.now;
  const capacity = options.rememberUplinks ?? 50_000;
  /** Insertion-ordered: the oldest key is dropped first. */
  const seen = new Set<string>();
  let byEui = new Map<string, Sensor>();
  let indexedFrom: Sensor[] | undefined;
  const batteries = new Map<string, { pct?: number; v?: number; at: number }>();
  const receiver = new EventEmitter<ReceiverEvents>() as UplinkReceiver;

  function index(): void {
    const list = registry.list();
    if (indexedFrom && list.length === indexedFrom.length && list.every((s, i) => s === indexedFrom![i])) return;
    indexedFrom = list;
    byEui = new Map(list.filter((s) => s.devEui).map((s) => [s.devEui!.toUpperCase(), s]));
  }

  function sensorFor(devEui: string): Sensor | undefined {
    const key = devEui.toUpperCase();
    index();
    if (byEui.has(key)) return byEui.get(key);
    // Registered by the CLI in another process a moment ago?
    if (registry.refresh()) index();
    return byEui.get(key);
  }

  function done(source: UplinkSource, result: UplinkResult): UplinkResult {
    receiver.emit('uplink', source, result, now());
    return result;
  }

  function remember(key: string): boolean {
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > capacity) seen.delete(seen.values().next().value as string);
    return true;
  }

  function keepBattery(sensorId: string, b: { pct?: number | undefined; v?: number | undefined }, at: number): void {
    if (b.pct === undefined && b.v === undefined) return;
    const entry = { ...(b.pct !== undefined && { pct: b.pct }), ...(b.v !== undefined && { v: b.v }), at };
    batteries.set(sensorId, entry);
    receiver.emit('battery', sensorId, entry, at);
  }

  Object.assign(receiver, {
    batteries,
    sensorFor,
    count(source: UplinkSource, outcome: 'invalid' | 'ignored', detail: string) {
      return done(source, { outcome, detail });
    },
    status(source: UplinkSource, devEui: string, batteryPct: number | undefined, at: number) {
      const sensor = sensorFor(devEui);
      if (!sensor) return done(source, { outcome: 'unknown_device', reason: 'unknown_device', detail: `dev_eui ${devEui}` });
      keepBattery(sensor.id, { pct: batteryPct }, at);
      return done(source, { outcome: 'ignored', sensorId: sensor.id, detail: 'status event: battery kept' });
    },
    async receive(uplink: Uplink): Promise<UplinkResult> {
      const sensor = sensorFor(uplink.devEui);
      if (!sensor) {
        const detail = `no sensor registered with dev_eui ${uplink.devEui}${uplink.deviceName ? ` (${uplink.deviceName})` : ''}`;
        ingest.reject('unknown_device', detail);
        return done(uplink.source, { outcome: 'unknown_device', reason: 'unknown_device', detail });
      }
      // Remembered uplinks are lost on restart; the newest stored reading still recognises a redelivery of itself
      // (a webhook retried across a restart). Anything older is stored once by the store's (sensor, time) key.
      const newest = ingest.latest.get(sensor.id);
      const redelivered = newest !== undefined && newest.observedAt === uplink.receivedAt && newest.seq === uplink.fCnt;
      if (!remember(uplinkKey(uplink)) || redelivered) {
        return done(uplink.source, { outcome: 'duplicate', sensorId: sensor.id, detail: `fCnt ${uplink.fCnt} already received` });
      }
      const decision = decideUplink(uplink, sensor);
      if (decision.kind === 'ignored') return done(uplink.source, { outcome: 'ignored', sensorId: sensor.id, detail: decision.detail });
      if (decision.kind === 'refused') {
        keepBattery(sensor.id, { pct: decision.batteryPct, v: decision.batteryV }, uplink.receivedAt);
        ingest.reject(decision.reason, decision.detail, sensor.id);
        return done(uplink.source, { outcome: 'refused', sensorId: sensor.id, reason: decision.reason, detail: decision.detail });
      }
      const { payload } = decision;
      try {
        const submitted = await ingest.submit(sensor.id, Buffer.from(JSON.stringify(payload)));
        if (!submitted.ok) return done(uplink.source, { outcome: 'refused', sensorId: sensor.id, reason: submitted.reason, detail: submitted.detail });
      } catch (err) {
        // Not durable: forget it so the server's redelivery (webhook retry) is taken, and let the caller answer 5xx.
        seen.delete(uplinkKey(uplink));
        throw err;
      }
      keepBattery(sensor.id, { pct: payload.battery_pct, v: payload.battery_v }, uplink.receivedAt);
      return done(uplink.source, { outcome: 'accepted', sensorId: sensor.id });
    },
  });
  return receiver;
}
