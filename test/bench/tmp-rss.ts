import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerSimSensors } from '../../firmware-sim/credentials.ts';
import { startService, rssWithSensors } from './pipeline.bench.ts';
import { stopAll } from './children.ts';
const dir = '/tmp/kansui-rss';
const dataDir = join(dir, 'data');
const credentials = join(dir, 'creds.jsonl');
if (!existsSync(credentials)) {
  const specs = Array.from({ length: 10_000 }, (_, i) => ({ id: `sim-${String(i).padStart(5, '0')}`, name: `bench ${i}`, lat: 34.27, lon: 135.4, ...(i % 4 === 3 && { mountHeightMm: 3000, minRangeMm: 250 }) }));
  const creds = registerSimSensors(dataDir, specs);
  writeFileSync(credentials, creds.map((c) => JSON.stringify(c)).join('\n') + '\n');
}
const args = (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean);
const s = await startService(dataDir, {}, args);
const r = await rssWithSensors(s, `mqtt://127.0.0.1:${s.mqttPort}`, credentials);
console.log(JSON.stringify(r));
await s.stop();
await stopAll();
process.exit(0);
