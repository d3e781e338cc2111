import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startKansui, type Kansui, type StartOptions } from '../../services/app.ts';
import { loadConfig } from '../../services/config.ts';

export function makeTempDir(prefix = 'kansui-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestKansui extends Kansui {
  httpUrl: string;
  mqttUrl: string | undefined;
  dataDir: string;
  /** Stop and delete the temp data dir. */
  dispose(): Promise<void>;
}

/**
 * The whole service on ephemeral ports (0) with a temp DATA_DIR, loopback
 * only, logging silenced (set TEST_LOG=debug to see it).
 */
export async function startTestKansui(
  env: Record<string, string> = {},
  options: StartOptions & { dataDir?: string } = {},
): Promise<TestKansui> {
  const temp = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? (temp as { dir: string }).dir;
  const config = loadConfig({
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    MQTT_HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const k = await startKansui(config, { logger, ...options });
  return Object.assign(k, {
    httpUrl: `http://127.0.0.1:${k.httpPort}`,
    mqttUrl: k.mqttPort !== undefined ? `mqtt://127.0.0.1:${k.mqttPort}` : undefined,
    dataDir,
    async dispose() {
      await k.stop();
      temp?.remove();
    },
  });
}
