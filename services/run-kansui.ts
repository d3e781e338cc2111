import type { StartOptions } from './root/application.ts';
import { startRole, type KansuiProcess } from './root/start.ts';
import type { Config } from './config.ts';

/**
 * Run kansui as a process (the role KANSUI_ROLE asks for): start it, stop cleanly on SIGTERM/SIGINT (exit 0),
 * and exit 1 on a fatal fault (issue 10 #14: the readings writer thread keeps
 * dying) so the supervisor (systemd `Restart=on-failure`) starts a fresh one.
 * A clean stop is tried first, bounded to 10 s so a stuck part cannot keep a
 * broken process alive. `services/main.ts` calls it with the environment.
 */
export async function runKansui(config: Config, options: StartOptions = {}): Promise<KansuiProcess> {
  let fatal = false;
  let started: KansuiProcess | undefined;
  const kansui = await startRole(config, {
    ...options,
    onFatal: (err) => {
      options.onFatal?.(err);
      if (fatal) return;
      fatal = true;
      setTimeout(() => process.exit(1), 10_000);
      if (!started) process.exit(1);
      else started.stop().finally(() => process.exit(1));
    },
  });
  started = kansui;
  const shutdown = (signal: string) => {
    kansui.logger.info({ signal }, 'shutting down');
    kansui.stop().then(
      () => process.exit(fatal ? 1 : 0),
      (err) => {
        kansui.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return kansui;
}
