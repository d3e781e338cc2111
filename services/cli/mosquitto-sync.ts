import { createMosquittoProvisioning } from '../broker/mosquitto-provisioning.ts';
import type { Config } from '../config.ts';

/** Why the external Mosquitto would refuse this sensor id as a login (its admin's or the ingest's name), or undefined. */
export function refusedMosquittoLogin(config: Config, sensorId: string): string | undefined {
  return createMosquittoProvisioning(config)?.sink.refuses?.(sensorId);
}

/**
 * With an external Mosquitto configured (MOSQUITTO_DYNSEC or
 * MOSQUITTO_PASSWORD_FILE), the CLI issues (`password`) or revokes
 * (`undefined`) the sensor's login there too, as the console does; otherwise
 * nothing (the embedded broker reads kansui.db).
 */
export async function syncMosquittoLogin(config: Config, sensorId: string, password: string | undefined): Promise<void> {
  const provisioning = createMosquittoProvisioning(config);
  if (!provisioning) return;
  try {
    if (password === undefined) await provisioning.sink.revoked(sensorId);
    else await provisioning.sink.issued(sensorId, password);
  } finally {
    await provisioning.close();
  }
}
