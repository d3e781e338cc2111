import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort } from '../helpers/ports.ts';
import { buildIfStale, npmScriptArgs } from '../helpers/process.ts';
import { sleep, stopChild, track } from './children.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** `npm start`'s node arguments, flags included, with the entry point made absolute. */
const START = npmScriptArgs('start', ROOT).map((a) => (/\.[jt]s$/.test(a) ? join(ROOT, a) : a));
let built = false;

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

/** One unlabelled sample from the service's /metrics. */
export async function metricValue(httpPort: number, name: string): Promise<number> {
  const text = await httpGet(`http://127.0.0.1:${httpPort}/metrics`);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat (clock ticks, 100/s on Linux). */
/** kansui as `npm start` runs it, in its own process, on free loopback ports; resolves once its HTTP server answers. */
export async function startService(dataDir: string, env: Record<string, string> = {}) {
  if (!built) (buildIfStale(ROOT), (built = true)); // npm start's prestart (issue 15)
  const httpPort = await getFreePort();
  const mqttPort = await getFreePort();
  const child = track(spawn(process.execPath, START, {
    env: {
      ...process.env, DATA_DIR: dataDir, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort), HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      // The benches publish thousands of readings a second per sensor, far over a field
      // sensor's limit (issue 10 item 6): raise it so they measure throughput, not refusals.
      // The bucket is still consulted on every publish, so its cost is in the numbers.
      MQTT_SENSOR_RATE_PER_MIN: '60000000', MQTT_SENSOR_BURST: '10000000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  }));
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kansui exited ${child.exitCode}: ${stderr}`);
    const ok = await httpGet(`http://127.0.0.1:${httpPort}/healthz`).then(() => true, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`kansui did not start: ${stderr}`);
    await sleep(100);
  }
  return { child, httpPort, mqttPort, url: `mqtt://127.0.0.1:${mqttPort}`, pid: child.pid as number, stop: () => stopChild(child) };
}
