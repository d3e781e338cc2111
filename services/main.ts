import { ConfigError, loadConfig } from './config.ts';
import { runKansui } from './run-kansui.ts';
import { ReadingsStoreMismatchError } from './storage/readings-identity.ts';

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
  // A refusal that explains itself (issue 10 #11) needs no stack.
  const text = err instanceof ReadingsStoreMismatchError ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`kansui: failed to start: ${text}\n`);
  process.exit(1);
});
