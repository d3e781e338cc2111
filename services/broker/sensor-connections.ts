import type { Client } from 'aedes';

/**
 * Why the embedded broker refused or dropped a connection, the label of
 * `kansui_mqtt_connections_refused_total` (docs/operations.md, Security model).
 */
export const CONNECTION_REFUSALS = [
  'bad_credentials',
  'sensor_retired',
  'client_id_not_allowed',
  'too_many_connections',
  'packet_too_large',
  'malformed_packet',
  'connect_timeout',
  'too_many_pending',
] as const;
export type ConnectionRefusal = (typeof CONNECTION_REFUSALS)[number];

/** An aedes client once `authenticate` has put the sensor id on it. */
export type SensorClient = Client & { sensorId?: string };

export interface SensorConnections {
  /** Record an authenticated client, until `drop` is called with its socket. */
  add(sensorId: string, client: SensorClient): void;
  /** A socket closed (the broker calls this from its 'close' listener). */
  drop(conn: object): void;
  /** Live (not yet closed) clients of one sensor, handshake finished or not. */
  clientsOf(sensorId: string): SensorClient[];
  /** Sensors with at least one connection that has had its CONNACK and is not closed. */
  connectedIds(): Set<string>;
  /** Connections that have had their CONNACK and are not closed. */
  connectedCount(): number;
}

/**
 * Which sensors hold a connection to the embedded broker. The truth is the
 * clients' own state, not the order of aedes' `clientReady` and
 * `clientDisconnect` events: a client that drops right after its CONNACK gets
 * `clientDisconnect` from `close()` *before* aedes finishes the connect series
 * and emits `clientReady` (aedes 1.2 lib/handlers/connect.js `doConnack` →
 * `emptyQueue` → `clientReady`; lib/client.js `close` → `unregisterClient`),
 * and even sets `connected = true` again after the close. Counting those
 * events leaked a "connected" sensor per such drop (issue 10 item 7). Here a
 * client is added once authenticated, removed when its socket emits 'close'
 * (always emitted once a socket is destroyed; the broker already listens for
 * it, so no listener per client here), and counted as connected only while
 * aedes says it is connected and not closed.
 */
export function createSensorConnections(): SensorConnections {
  const bySensor = new Map<string, Set<SensorClient>>();
  const byConn = new Map<object, SensorClient & { sensorId: string }>();
  const live = (c: SensorClient) => !c.closed && !c.conn.destroyed;
  const connected = (c: SensorClient) => c.connected && live(c);

  return {
    add(sensorId, client) {
      if (!live(client)) return; // already gone: its 'close' may have been emitted
      let set = bySensor.get(sensorId);
      if (!set) bySensor.set(sensorId, (set = new Set()));
      set.add(client);
      byConn.set(client.conn, Object.assign(client, { sensorId }));
    },
    drop(conn) {
      const client = byConn.get(conn);
      if (!client) return;
      byConn.delete(conn);
      const set = bySensor.get(client.sensorId);
      set?.delete(client);
      if (set?.size === 0) bySensor.delete(client.sensorId);
    },
    clientsOf(sensorId) {
      return [...(bySensor.get(sensorId) ?? [])].filter(live);
    },
    connectedIds() {
      const ids = new Set<string>();
      for (const [id, set] of bySensor) for (const c of set) if (connected(c)) ids.add(id);
      return ids;
    },
    connectedCount() {
      let n = 0;
      for (const set of bySensor.values()) for (const c of set) if (connected(c)) n++;
      return n;
    },
  };
}
