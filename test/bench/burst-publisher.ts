import mqtt, { type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Burst load process for test/bench/influx.bench.ts: publish exactly `count`
 * QoS 1 readings round-robin over this shard's sensors, as fast as a window
 * of unacknowledged publishes per connection allows, then report.
 * argv: url credentials.jsonl shard(K/N) count window
 * stdout (JSON lines): {"event":"connected"} → waits for "go" on stdin → {"event":"done",sent,acked,elapsedS}
 */
const [url, credentialsFile, shard = '1/1', countArg = '1000', windowArg = '8'] = process.argv.slice(2);
const [k, n] = shard.split('/').map(Number) as [number, number];
const count = Number(countArg);
const window = Number(windowArg);
const lines = readFileSync(credentialsFile as string, 'utf8').split('\n').filter(Boolean);
const mine = lines
  .map((l) => JSON.parse(l) as { id: string; mqtt: { username: string; password: string } })
  .filter((_, i) => i % n === k - 1);

interface Pub {
  client: MqttClient;
  topic: string;
  inflight: number;
  ts: number;
}
const pubs: Pub[] = await Promise.all(
  mine.map(
    (s) =>
      new Promise<Pub>((resolve, reject) => {
        const client = mqtt.connect(url as string, { username: s.mqtt.username, password: s.mqtt.password, clientId: `${s.id}/burst-${process.pid}`, clean: true, reconnectPeriod: 0, protocolVersion: 4 });
        client.once('connect', () => resolve({ client, topic: `flood/${s.id}/reading`, inflight: 0, ts: Date.now() - 60_000 }));
        client.once('error', reject);
      }),
  ),
);
process.stdout.write(JSON.stringify({ event: 'connected', sensors: pubs.length }) + '\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));

let sent = 0;
let acked = 0;
let settled = 0;
const started = performance.now();
await new Promise<void>((resolve) => {
  const pump = (p: Pub) => {
    while (p.inflight < window && sent < count) {
      sent++;
      p.inflight++;
      const ts = ++p.ts;
      p.client.publish(p.topic, `{"ts":${ts},"level_cm":${(ts % 50) / 10},"seq":${sent}}`, { qos: 1 }, (err) => {
        p.inflight--;
        settled++;
        if (!err) acked++;
        if (settled >= count) resolve();
        else pump(p);
      });
    }
  };
  for (const p of pubs) pump(p);
});
const elapsedS = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ event: 'done', sent, acked, elapsedS }) + '\n');
await Promise.all(pubs.map((p) => p.client.endAsync(true)));
process.exit(0);
