import { connectLeanPublisher } from './lean-mqtt.ts';
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
  /**
   * `mqtt.js` (full client, as in scenario mode) or `lean` (firmware-sim/lean-mqtt.ts:
   * pre-encoded QoS 1 PUBLISH, one socket write per connection per tick), so the
   * generator's own CPU does not cap what a benchmark can offer.
   */
  client?: 'mqtt.js' | 'lean';
}

export interface LoadResult {
  sensors: number;
  connectS: number;
  /** Publishing time (s). */
  elapsedS: number;
  sent: number;
  acked: number;
  /** Readings the schedule wanted but that were not sent: the window was full, or this process fell behind (the target rate was not reached). */
  behind: number;
  /** Readings the schedule called for up to the last tick (rate × time; = sent + behind). 0 when rate is 0. */
  scheduled: number;
  /** acked / elapsedS */
  ackedPerS: number;
  /** CPU seconds this process used while publishing (user + system). */
  cpuS: number;
}

interface Pub {
  send(body: string, onAck: () => void): void;
  isConnected(): boolean;
  /** Lean client: write what this tick queued. */
  flush?(): void;
  close(): Promise<void>;
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
  const lean = options.client === 'lean';
  if (lean && qos !== 1) throw new Error('the lean load client publishes QoS 1 only');
  const url = new URL(options.url);
  for (let i = 0; i < options.sensors.length; i += concurrency) {
    const batch = options.sensors.slice(i, i + concurrency).map(async (sensor) => {
      const topic = `flood/${sensor.id}/reading`;
      const base = { topic, kind: sensor.kind, mountHeightMm: sensor.mountHeightMm ?? 3000, inflight: 0, lastTs: 0, seq: 0 };
      if (lean) {
        const acks: (() => void)[] = [];
        const c = await connectLeanPublisher({
          host: url.hostname, port: Number(url.port || 1883), clientId: sensor.id,
          username: sensor.username, password: sensor.password, topic, clean: options.clean ?? true,
        });
        // PUBACKs arrive in publish order for one connection [MQTT-4.6.0-2].
        let seen = 0;
        c.socket.on('data', () => {
          while (seen < c.acked) {
            seen++;
            acks.shift()?.();
          }
        });
        pubs.push({
          ...base,
          send(body, onAck) {
            acks.push(onAck);
            c.publish(Buffer.from(body));
          },
          isConnected: () => c.connected,
          flush: () => c.flush(),
          close: () => c.end(),
        });
        return;
      }
      const client = openSensorSession({ url: options.url, sensor, clean: options.clean ?? true });
      pubs.push({
        ...base,
        send(body, onAck) {
          client.publish(topic, body, { qos }, (err) => {
            if (!err) onAck();
            else this.inflight--;
          });
        },
        isConnected: () => client.connected,
        close: async () => {
          await Promise.race([closeSession(client), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
          client.end(true);
        },
      });
      await waitConnected(client, 30_000);
    });
    const settled = await Promise.allSettled(batch);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Hang up whatever did connect before reporting, so nothing is left open.
      await Promise.all(pubs.map((p) => p.close().catch(() => {})));
      throw failed.reason;
    }
  }
  const connectS = (performance.now() - connectStarted) / 1000;
  await options.beforePublish?.();

  let sent = 0;
  let acked = 0;
  let behind = 0;
  let scheduled = 0;
  let cursor = 0;
  const cpuStart = process.cpuUsage();
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
    p.send(body, () => {
      p.inflight--;
      acked++;
    });
  }

  /** Publish up to `n` readings round-robin over sensors with window room; returns how many went out. */
  function publishMany(n: number): number {
    let done = 0;
    let skipped = 0;
    while (done < n && skipped < pubs.length) {
      const p = pubs[cursor] as Pub;
      cursor = (cursor + 1) % pubs.length;
      if (p.inflight >= window || !p.isConnected()) {
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
        scheduled = Math.floor(((t - started) / 1000) * options.rate);
        const due = scheduled - sent - behind;
        // Never burst more than 100 ms of load at once after a stall; what is skipped counts as behind.
        const n = Math.min(due, Math.ceil(options.rate / 10));
        if (n > 0) behind += due - publishMany(n);
      } else {
        publishMany(pubs.length * window);
      }
      if (lean) for (const p of pubs) p.flush?.();
    }, TICK_MS);
  });
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);

  // Wait briefly for the last acks so `acked` is complete, then hang up.
  const drainUntil = performance.now() + 5_000;
  while (pubs.some((p) => p.inflight > 0) && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(pubs.map((p) => p.close()));
  return { sensors: pubs.length, connectS, elapsedS, sent, acked, behind, scheduled, ackedPerS: acked / elapsedS, cpuS: (cpu.user + cpu.system) / 1e6 };
}
