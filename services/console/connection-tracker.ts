import type { Aedes, Client } from 'aedes';

/**
 * Which sensors are connected to the embedded broker right now, from aedes'
 * public `clientReady` / `clientDisconnect` events. The broker's
 * `authenticate` hook puts the sensor id on the client (services/broker/create-broker.ts).
 * A sensor may briefly have two connections (a reconnect before the old
 * socket is noticed dead), hence a count, not a flag.
 */
export function trackSensorConnections(aedes: Aedes): () => ReadonlySet<string> {
  const counts = new Map<string, number>();
  aedes.on('clientReady', (client: Client & { sensorId?: string }) => {
    if (client.sensorId) counts.set(client.sensorId, (counts.get(client.sensorId) ?? 0) + 1);
  });
  aedes.on('clientDisconnect', (client: Client & { sensorId?: string }) => {
    if (!client.sensorId) return;
    const n = (counts.get(client.sensorId) ?? 1) - 1;
    if (n > 0) counts.set(client.sensorId, n);
    else counts.delete(client.sensorId);
  });
  return () => new Set(counts.keys());
}
