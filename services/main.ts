import { startKansui } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

/** Composition root: the environment is read here and nowhere else. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kansui: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const kansui = await startKansui(config);
  const shutdown = (signal: string) => {
    kansui.logger.info({ signal }, 'shutting down');
    kansui.stop().then(
      () => process.exit(0),
      (err) => {
        kansui.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  process.stderr.write(`kansui: failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
