import type { Config } from '../config.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';
import { mosquittoDynsecSink } from './mosquitto-dynsec.ts';
import { mosquittoFilesSink } from './mosquitto-files.ts';

/** Where sensor logins go in an external Mosquitto: one port, two adapters (password file + SIGHUP, or dynamic security). */
export interface MosquittoProvisioning {
  mode: 'files' | 'dynsec';
  sink: CredentialSink;
  /** Before the ingest connects: make sure its own login can read readings (dynamic security only). */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The adapter the config asks for, or undefined (embedded broker, or an
 * external broker whose logins the site manages itself). Used by the
 * composition root and by the `kansui` CLI, so both provision the same way.
 */
export function createMosquittoProvisioning(config: Config): MosquittoProvisioning | undefined {
  if (config.MOSQUITTO_DYNSEC) {
    const url = config.MOSQUITTO_DYNSEC_URL ?? config.MQTT_URL;
    if (!url || !config.MOSQUITTO_DYNSEC_PASSWORD) throw new Error('MOSQUITTO_DYNSEC needs MQTT_URL and MOSQUITTO_DYNSEC_PASSWORD'); // loadConfig refuses this already
    const dynsec = mosquittoDynsecSink({
      url,
      username: config.MOSQUITTO_DYNSEC_USERNAME,
      password: config.MOSQUITTO_DYNSEC_PASSWORD,
      ingest: config.MQTT_USERNAME ? { username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD, eventsPrefix: config.EVENTS_TOPIC_PREFIX } : undefined,
    });
    return { mode: 'dynsec', sink: dynsec, prepare: () => dynsec.prepareIngest(), close: () => dynsec.close() };
  }
  if (config.MOSQUITTO_PASSWORD_FILE) {
    const files = mosquittoFilesSink({
      passwordFile: config.MOSQUITTO_PASSWORD_FILE,
      aclFile: config.MOSQUITTO_ACL_FILE,
      ingestUsername: config.MQTT_USERNAME,
      eventsPrefix: config.EVENTS_TOPIC_PREFIX,
      pidFile: config.MOSQUITTO_PID_FILE,
      reloadCommand: config.MOSQUITTO_RELOAD_COMMAND,
    });
    return { mode: 'files', sink: files, prepare: async () => {}, close: async () => {} };
  }
  return undefined;
}
