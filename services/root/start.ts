import type { Config } from '../config.ts';
import { startKansui, type Kansui, type StartOptions } from './application.ts';
import { startIngestRole, type KansuiIngest } from './ingest.ts';

/** A started kansui process of any role. */
export type KansuiProcess = Kansui | KansuiIngest;

/**
 * The composition root's entry (issue 16): the process KANSUI_ROLE asks for,
 * wired from the validated config (issue 15; docs/architecture.md):
 * `all` (default, one process), `core`, `web` (services/root/application.ts)
 * or `ingest` (services/root/ingest.ts).
 */
export function startRole(config: Config, options: StartOptions = {}): Promise<KansuiProcess> {
  return config.KANSUI_ROLE === 'ingest' ? startIngestRole(config, options) : startKansui(config, options);
}
