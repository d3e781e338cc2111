import { ConfigError, loadConfig } from './config.ts';
import { runKansui } from './run-kansui.ts';

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
  await runKansui(config);
}

main().catch((err) => {
  process.stderr.write(`kansui: failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
