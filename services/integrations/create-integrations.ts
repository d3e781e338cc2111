import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { AuthEnv } from '../auth/middleware.ts';
import type { Config } from '../config.ts';
import type { SensorRegistry } from '../core/ports.ts';
import type { UplinkSource } from '../core/uplink.ts';
import type { Ingest } from '../ingest/create-ingest.ts';
import { createIntegrationMetrics, type IntegrationMetrics } from './metrics.ts';
import { chirpstackProfile, connectNetworkServerMqtt, ttnProfile, type NetworkServerMqtt } from './mqtt-adapter.ts';
import { createUplinkReceiver, type UplinkReceiver, type UplinkResult } from './receiver.ts';
import { integrationRoutes } from './routes.ts';

export interface Integrations {
  receiver: UplinkReceiver;
  metrics: IntegrationMetrics;
  /** The MQTT connections to network servers that are configured. */
  mqtt: NetworkServerMqtt[];
  routes: (app: Hono<AuthEnv>) => void;
  close(): Promise<void>;
}

export interface IntegrationsDeps {
  registry: SensorRegistry;
  ingest: Ingest;
  metricsRegistry: Registry;
  now: () => number;
  onUplink?: (source: UplinkSource, result: UplinkResult) => void;
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
  firstConnectTimeoutMs?: number;
  /** ISO 8601 in the service's zone, for the console. */
  formatTime?: (ms: number) => string;
  /** Keeps webhook uplinks out of the audit log (see integrationRoutes). */
  notAudited?: (request: Request) => void;
}

/**
 * LoRaWAN network servers in (issue 11): one receiver (DevEUI → sensor →
 * codec → ingest), the webhook routes (always mounted: they need a token),
 * and an MQTT connection per configured server.
 */
export async function createIntegrations(config: Config, deps: IntegrationsDeps): Promise<Integrations> {
  const receiver = createUplinkReceiver({ registry: deps.registry, ingest: deps.ingest, now: deps.now });
  const metrics = createIntegrationMetrics(deps.metricsRegistry);
  receiver.on('uplink', (source, result, at) => {
    metrics.record(source, result.outcome, at);
    deps.onUplink?.(source, result);
  });
  const common = {
    receiver,
    now: deps.now,
    ...(deps.onEvent && { onEvent: deps.onEvent }),
    ...(deps.firstConnectTimeoutMs !== undefined && { firstConnectTimeoutMs: deps.firstConnectTimeoutMs }),
  };
  const mqtt: NetworkServerMqtt[] = [];
  if (config.TTN_MQTT_URL && config.TTN_MQTT_USERNAME) {
    metrics.enable('ttn-mqtt');
    // Clean session, QoS 0: any unique client id will do.
    const clientId = `kansui-ttn-${Math.random().toString(36).slice(2, 10)}`;
    mqtt.push(await connectNetworkServerMqtt(ttnProfile(config.TTN_MQTT_USERNAME), { ...common, url: config.TTN_MQTT_URL, clientId, username: config.TTN_MQTT_USERNAME, password: config.TTN_MQTT_PASSWORD }));
  }
  if (config.CHIRPSTACK_MQTT_URL) {
    metrics.enable('chirpstack-mqtt');
    mqtt.push(await connectNetworkServerMqtt(chirpstackProfile(), { ...common, url: config.CHIRPSTACK_MQTT_URL, clientId: config.CHIRPSTACK_MQTT_CLIENT_ID, username: config.CHIRPSTACK_MQTT_USERNAME, password: config.CHIRPSTACK_MQTT_PASSWORD }));
  }
  return {
    receiver,
    metrics,
    mqtt,
    routes: integrationRoutes({ receiver, metrics, now: deps.now, formatTime: deps.formatTime ?? ((ms) => new Date(ms).toISOString()), ...(deps.notAudited && { notAudited: deps.notAudited }) }),
    async close() {
      await Promise.all(mqtt.map((m) => m.close()));
    },
  };
}
