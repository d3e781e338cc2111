import type { MqttClient } from 'mqtt';
import { EventEmitter } from 'node:events';
import { isDisconnected, shapePayload, type Fault } from './faults.ts';
import { closeSession, holdOffline, openSensorSession, releaseOffline, waitConnected, type SimSensor } from './mqtt-session.ts';
import { addNoise, createRng, levelAt, scenarioEndS, type ScenarioName, type SiteResponseInput } from './scenarios.ts';

export interface ScenarioSensor extends SimSensor {
  /** How this site responds to the storm (peak, time to peak, lag, base). */
  site?: SiteResponseInput;
}

export interface SimulatorOptions {
  url: string;
  sensors: ScenarioSensor[];
  scenario: ScenarioName;
  /** Scenario seconds per wall second (60: one real second is one minute of storm). */
  timeScale?: number;
  /** Wall seconds between one sensor's readings. */
  intervalS?: number;
  /** Scenario second the run starts at. */
  startAtS?: number;
  faults?: Fault[];
  seed?: number;
  /** ± noise added to every level (cm); 0 for exact curves. */
  noiseCm?: number;
  qos?: 0 | 1;
  /** Wall clock (ms); replaceable for tests. */
  now?: () => number;
}

export interface SimulatorStats {
  sensors: number;
  connected: number;
  /** Payloads handed to MQTT. */
  published: number;
  /** QoS 1 publishes the broker acknowledged. */
  acked: number;
  /** Samples that a fault suppressed (silence). */
  suppressed: number;
  /** Publishes that failed (client ended before the ack). */
  failed: number;
  /** Connection losses seen. */
  disconnects: number;
}

export interface SimulatorEvents {
  sample: [info: { sensorId: string; levelCm: number; scenarioS: number; payloads: string[]; faults: string[] }];
  error: [err: Error, sensorId: string];
}

export interface Simulator extends EventEmitter<SimulatorEvents> {
  /** Connect every sensor (resolves when all are connected, rejects if one is refused) and start publishing. */
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): SimulatorStats;
  /** Scenario seconds now. */
  scenarioS(): number;
  /** Wall seconds until every site is back within 2 % of base (Infinity for `dry`). */
  remainingS(): number;
}

interface Running {
  sensor: ScenarioSensor;
  client: MqttClient;
  nextDueMs: number;
  seq: number;
  count: number;
  previousS: number;
  cut: boolean;
  rssi: number;
}

/**
 * Run sensors through a scenario: each sensor samples its site's level
 * every `intervalS` wall seconds and publishes it (QoS 1 by default) to
 * `flood/{id}/reading` with the real wall-clock `ts`; scenario time only
 * shapes the level.
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const now = options.now ?? Date.now;
  const timeScale = options.timeScale ?? 1;
  const intervalMs = Math.max(10, (options.intervalS ?? 5) * 1000);
  const faults = options.faults ?? [];
  const qos = options.qos ?? 1;
  const rng = createRng(options.seed ?? 1);
  const noiseCm = options.noiseCm ?? 0.5;
  const stats: SimulatorStats = { sensors: options.sensors.length, connected: 0, published: 0, acked: 0, suppressed: 0, failed: 0, disconnects: 0 };
  const running: Running[] = [];
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let settled: (() => void) | undefined;
  const sim = new EventEmitter<SimulatorEvents>() as Simulator;

  const scenarioS = () => (options.startAtS ?? 0) + ((now() - startedAt) / 1000) * timeScale;

  function tick(): void {
    const t = now();
    const elapsedS = (t - startedAt) / 1000;
    for (const r of running) {
      const cut = isDisconnected(faults, r.sensor.id, elapsedS);
      if (cut && !r.cut) {
        r.cut = true;
        holdOffline(r.client);
      } else if (!cut && r.cut) {
        r.cut = false;
        releaseOffline(r.client);
      }
      if (t < r.nextDueMs) continue;
      r.nextDueMs += intervalMs;
      if (r.nextDueMs < t) r.nextDueMs = t + intervalMs; // fell behind: skip, don't burst
      const s = scenarioS();
      const levelCm = addNoise(levelAt(options.scenario, s, r.sensor.site), rng, noiseCm);
      const out = shapePayload(
        {
          sensorId: r.sensor.id,
          kind: r.sensor.kind,
          ...(r.sensor.mountHeightMm !== undefined && { mountHeightMm: r.sensor.mountHeightMm }),
          levelCm,
          tsMs: t,
          seq: r.seq++,
          batteryV: 3.6,
          rssiDbm: r.rssi,
        },
        faults,
        { elapsedS, previousS: r.previousS, count: r.count++ },
      );
      r.previousS = elapsedS;
      if (out.payloads.length === 0) stats.suppressed++;
      for (const payload of out.payloads) {
        stats.published++;
        r.client.publish(`flood/${r.sensor.id}/reading`, payload, { qos }, (err) => {
          if (err) stats.failed++;
          else stats.acked++;
          if (stats.acked + stats.failed === stats.published) settled?.();
        });
      }
      sim.emit('sample', { sensorId: r.sensor.id, levelCm, scenarioS: s, payloads: out.payloads, faults: out.applied });
    }
  }

  Object.assign(sim, {
    async start() {
      // Stagger first readings over at most one second so a fleet does not publish in lockstep.
      const stagger = Math.min(intervalMs, 1000);
      for (const sensor of options.sensors) {
        const client = openSensorSession({ url: options.url, sensor, random: rng });
        const r: Running = {
          sensor, client, nextDueMs: Math.floor(rng() * stagger), seq: 0, count: 0, previousS: -1, cut: false,
          rssi: -70 - Math.round(rng() * 40),
        };
        client.on('offline', () => stats.disconnects++);
        client.on('error', (err) => sim.emit('error', err, sensor.id));
        running.push(r);
      }
      await Promise.all(running.map((r) => waitConnected(r.client, 15_000)));
      // The scenario clock starts once the fleet is connected, not before: at
      // ×3600 a one-second connect on a loaded machine (password checks) would
      // otherwise start the storm at its peak and skip the normal readings (issue 16).
      startedAt = now();
      for (const r of running) r.nextDueMs += startedAt;
      tick();
      timer = setInterval(tick, Math.max(20, Math.min(250, intervalMs / 10)));
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      // Let the readings already published get their PUBACKs (or fail) before the
      // sessions end, up to 10 s: on a loaded machine the last ones, and those a
      // reconnect resends, come late, and stats would count them as neither (issue 16).
      if (stats.acked + stats.failed < stats.published) {
        await new Promise<void>((res) => {
          settled = res;
          setTimeout(res, 10_000).unref();
        });
        settled = undefined;
      }
      // A graceful end waits for the PUBACKs of readings in flight; give up
      // after 10 s (a loaded 2-core machine needed more than 2 s, issue 16).
      await Promise.all(running.map((r) => Promise.race([
        closeSession(r.client),
        new Promise<void>((res) => setTimeout(res, 10_000).unref()),
      ]).then(() => closeSession(r.client, true))));
    },
    stats: () => ({ ...stats, connected: running.filter((r) => r.client.connected).length }),
    scenarioS,
    remainingS() {
      if (options.scenario === 'dry') return Infinity;
      const end = Math.max(0, ...options.sensors.map((s) => scenarioEndS(options.scenario, s.site)));
      return Math.max(0, (end - scenarioS()) / timeScale);
    },
  });
  return sim;
}
