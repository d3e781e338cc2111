import { applyMosquittoCredentialSync } from '../broker/mosquitto-files.ts';
import type { Config } from '../config.ts';

/**
 * With an external Mosquitto configured (MOSQUITTO_PASSWORD_FILE), the CLI
 * writes the sensor's login there too and reloads the broker, like the
 * console does; otherwise nothing (the embedded broker reads kansui.db).
 */
export function syncMosquittoLogin(config: Config, sensorId: string, password: string | undefined): void {
  if (!config.MOSQUITTO_PASSWORD_FILE) return;
  applyMosquittoCredentialSync(
    {
      passwordFile: config.MOSQUITTO_PASSWORD_FILE,
      aclFile: config.MOSQUITTO_ACL_FILE,
      ingestUsername: config.MQTT_USERNAME,
      pidFile: config.MOSQUITTO_PID_FILE,
      reloadCommand: config.MOSQUITTO_RELOAD_COMMAND,
    },
    sensorId,
    password,
  );
}
