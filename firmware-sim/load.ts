import type { MqttClient } from 'mqtt';
import { closeSession, openSensorSession, waitConnected, type SimSensor } from './mqtt-session.ts';

export interface LoadOptions {
  url: string;
  sensors: SimSensor[];
  /** Total readings/s across all sensors; 0 = as fast as the in-flight window allows. */
  rate: number;
  /** Wall seconds to publish for. */
  durationS: number;
  /** Most unacknowledged QoS 1 publishes per connection (flow control, like a device's send buffer). */
  window?: number;
  qos?: 0 | 1;
  /** Connections opened at once while connecting the fleet. */
  connectConcurrency?: number;
  /** Called after every sensor is connected and before publishing starts (e.g. wait for a "go"). */
  beforePublish?: () => Promise<void>;
  /** Clean session (benchmarks default to clean so no broker state leaks between phases). */
  clean?: boolean;
}

export interface LoadResult {
  sensors: number;
  connectS: number;
  /** Publishing time (s). */
  elapsedS: number;
  sent: number;
  acked: number;
  /** Readings the schedule wanted but the window did not allow (the target rate was not reached). */
  behind: number;
  /** acked / elapsedS */
  ackedPerS: number;
}

interface Pub {
  client: MqttClient;
  topic: string;
  kind: SimSensor['kind'];
  mountHeightMm: number;
  inflight: number;
  lastTs: number;
  seq: number;
}

/** Load-mode tick: small enough for smooth pacing, big enough to batch socket writes (ms). */
const TICK_MS = 5;

/**
 * Load mode for benchmarks: hold every sensor's connection (its own
 * credentials) and publish `rate` readings/s in total, round-robin across
 * sensors, each with a strictly increasing epoch-ms `ts` per sensor so no
 * two readings of one sensor collide on the store's (sensor, ts) key. Bounded
 * by `durationS`, and by `window` in flight per connection so a slow service
 * shows up as `behind` instead of unbounded memory here.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const window = options.window ?? 8;
  const qos = options.qos ?? 1;
  const concurrency = options.connectConcurrency ?? 200;
  const connectStarted = performance.now();
  const pubs: Pub[] = [];
  for (let i = 0; i < options.sensors.length; i += concurrency) {
    const batch = options.sensors.slice(i, i + concurrency).map((sensor) => {
      const client = openSensorSession({ url: options.url, sensor, clean: options.clean ?? true });
      pubs.push({
        client,
        topic: `flood/${sensor.id}/reading`,
        kind: sensor.kind,
        mountHeightMm: sensor.mountHeightMm ?? 3000,
        inflight: 0,
        lastTs: 0,
        seq: 0,
      });
      return waitConnected(client, 30_000);
    });
    await Promise.all(batch);
  }
  const connectS = (performance.now() - connectStarted) / 1000;
  await options.beforePublish?.();

  let sent = 0;
  let acked = 0;
  let behind = 0;
  let cursor = 0;
  const started = performance.now();
  const endAt = started + options.durationS * 1000;

  function publishOne(p: Pub): void {
    const now = Date.now();
    const ts = now > p.lastTs ? now : p.lastTs + 1;
    p.lastTs = ts;
    const seq = p.seq++;
    // A plausible dry-weather level that changes, without JSON.stringify per message.
    const level = (seq % 50) / 10;
    const body = p.kind === 'distance'
      ? `{"ts":${ts},"distance_mm":${p.mountHeightMm - level * 10},"seq":${seq}}`
      : `{"ts":${ts},"level_cm":${level},"seq":${seq}}`;
    p.inflight++;
    sent++;
    p.client.publish(p.topic, body, { qos }, (err) => {
      p.inflight--;
      if (!err) acked++;
    });
  }

  /** Publish up to `n` readings round-robin over sensors with window room; returns how many went out. */
  function publishMany(n: number): number {
    let done = 0;
    let skipped = 0;
    while (done < n && skipped < pubs.length) {
      const p = pubs[cursor] as Pub;
      cursor = (cursor + 1) % pubs.length;
      if (p.inflight >= window || !p.client.connected) {
        skipped++;
        continue;
      }
      skipped = 0;
      publishOne(p);
      done++;
    }
    return done;
  }

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = performance.now();
      if (t >= endAt) {
        clearInterval(timer);
        resolve();
        return;
      }
      if (options.rate > 0) {
        const due = Math.floor(((t - started) / 1000) * options.rate) - sent - behind;
        // Never burst more than 100 ms of load at once after a stall.
        const n = Math.min(due, Math.ceil(options.rate / 10));
        if (n > 0) behind += n - publishMany(n);
      } else {
        publishMany(pubs.length * window);
      }
    }, TICK_MS);
  });
  const elapsedS = (performance.now() - started) / 1000;

  // Wait briefly for the last acks so `acked` is complete, then hang up.
  const drainUntil = performance.now() + 5_000;
  while (pubs.some((p) => p.inflight > 0) && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(pubs.map((p) => Promise.race([closeSession(p.client), new Promise<void>((r) => setTimeout(r, 2000).unref())])));
  for (const p of pubs) p.client.end(true);
  return { sensors: pubs.length, connectS, elapsedS, sent, acked, behind, ackedPerS: acked / elapsedS };
}
