import { parseArgs } from 'node:util';
import { startKansui } from '../services/app.ts';
import { ConfigError, loadConfig } from '../services/config.ts';
import { registerSimSensors } from './credentials.ts';
import { DEMO_SITES } from './demo-sites.ts';
import { scenarioEndS } from './scenarios.ts';
import { createSimulator, type ScenarioSensor, type Simulator } from './simulator.ts';

const USAGE = `usage: npm run demo [-- options]

Start kansui exactly as \`npm start\` does (same environment variables and
defaults), register ten demo sensors in Kinokawa city (if not registered
yet), and drive them through a heavy-rain storm so the map goes from normal
to danger and back within a few minutes. Ctrl-C stops everything.

  --time-scale X   scenario seconds per real second (default 60)
  --interval S     real seconds between readings (default 2)
  --loop           start another storm when one has passed
  --help

Logs default to LOG_LEVEL=warn here to keep the demo readable.`;

const say = (line: string) => process.stdout.write(`demo: ${line}\n`);

/**
 * Register missing demo sensors and issue every demo sensor a fresh password
 * the simulator uses, through the same application functions as the CLI
 * and the console (audit entry, calibration version 1). Done before kansui
 * starts, so its registry loads them with everything else.
 */
async function provisionDemoSensors(dataDir: string): Promise<ScenarioSensor[]> {
  const lines = await registerSimSensors(dataDir, DEMO_SITES.map((d) => d.register));
  return lines.map((line, i) => ({
    id: line.id,
    username: line.mqtt.username,
    password: line.mqtt.password,
    kind: line.kind === 'distance' ? 'distance' : 'level', // demo sites are never stage sensors
    ...(line.mountHeightMm !== undefined && { mountHeightMm: line.mountHeightMm }),
    site: DEMO_SITES[i]!.site,
  }));
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: { 'time-scale': { type: 'string' }, interval: { type: 'string' }, loop: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const timeScale = Number(args['time-scale'] ?? 60);
  const intervalS = Number(args.interval ?? 2);
  if (!(timeScale > 0) || !(intervalS >= 0.05)) {
    process.stderr.write('demo: --time-scale must be > 0 and --interval ≥ 0.05\n');
    return 2;
  }

  let config;
  try {
    config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`demo: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.MQTT_URL) {
    process.stderr.write('demo: the demo drives the embedded broker; unset MQTT_URL (an external broker would need every demo sensor in its password file)\n');
    return 2;
  }

  const sensors = await provisionDemoSensors(config.DATA_DIR);
  const kansui = await startKansui(config);
  let sim: Simulator | undefined;
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) {
      process.stderr.write('demo: forced exit\n');
      process.exit(130);
    }
    stopping = true;
    say(`${signal}: stopping`);
    await sim?.stop();
    await kansui.stop();
  };
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => void stopAll(signal).then(resolve));
    }
  });

  try {
    const host = config.HTTP_HOST === '0.0.0.0' || config.HTTP_HOST === '::' ? 'localhost' : config.HTTP_HOST;
    say(`${sensors.length} demo sensors registered in ${config.DATA_DIR}`);
    say(`map: http://${host}:${kansui.httpPort}/`);

    // Announce status changes as the map will show them.
    const last = new Map<string, string>();
    kansui.hub.subscribe((e) => {
      if (e.event !== 'reading') return;
      const d = JSON.parse(e.data) as { sensor_id: string; status: string; level_cm: number };
      if (last.get(d.sensor_id) !== d.status) {
        if (last.has(d.sensor_id)) say(`${d.sensor_id}: ${last.get(d.sensor_id)} → ${d.status} (${d.level_cm} cm)`);
        last.set(d.sensor_id, d.status);
      }
    });

    const stormS = Math.max(...sensors.map((s) => scenarioEndS('heavy-rain', s.site)));
    do {
      sim = createSimulator({
        url: `mqtt://127.0.0.1:${kansui.mqttPort}`,
        sensors,
        scenario: 'heavy-rain',
        timeScale,
        intervalS,
        seed: Date.now() & 0xffff,
        faults: [],
      });
      await sim.start();
      say(`heavy rain begins: peaks in about ${Math.round(3600 / timeScale)}–${Math.round((1800 + 5400) / timeScale)} s, over in about ${Math.round(stormS / timeScale)} s`);
      const passed = new Promise<void>((resolve) => setTimeout(resolve, (stormS / timeScale) * 1000).unref());
      await Promise.race([passed, stopped]);
      if (stopping) break;
      say(args.loop ? 'the storm has passed; another begins' : 'the storm has passed; sensors keep reporting normal levels. Ctrl-C to stop');
      if (args.loop) await sim.stop();
    } while (args.loop && !stopping);
    await stopped;
    say('stopped');
    return 0;
  } catch (err) {
    await sim?.stop().catch(() => {});
    await kansui.stop().catch(() => {});
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`demo: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
