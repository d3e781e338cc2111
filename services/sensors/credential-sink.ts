/**
 * Where issued sensor credentials must also go, besides kansui.db. The
 * embedded broker checks kansui.db itself and only needs live sessions cut;
 * an external Mosquitto needs its password file rewritten and a reload
 * (services/broker/mosquitto-files.ts).
 */
export interface CredentialSink {
  /** A sensor got a (new) password: the old one must stop working at once. */
  issued(sensorId: string, password: string): Promise<void>;
  /** A sensor's credentials were revoked: it must not connect any more. */
  revoked(sensorId: string): Promise<void>;
  /** Cut a connected sensor (retired). */
  disconnect(sensorId: string): Promise<void>;
  /**
   * Why a sensor may not have this id as its broker login (it is the broker
   * admin's or the ingest's username), or undefined. Asked before a sensor is
   * registered, so a refused id leaves nothing behind.
   */
  refuses?(sensorId: string): string | undefined;
}

/** The embedded broker: kansui.db is the password list; disconnect live sessions (MQTT has no re-authentication in 3.1.1). */
export function embeddedBrokerSink(broker: { disconnectSensor(sensorId: string): number } | undefined): CredentialSink {
  const cut = async (id: string) => void broker?.disconnectSensor(id);
  return { issued: (id) => cut(id), revoked: cut, disconnect: cut };
}

/** Every sink, in order. */
export function combineSinks(...sinks: CredentialSink[]): CredentialSink {
  return {
    async issued(id, password) {
      for (const s of sinks) await s.issued(id, password);
    },
    async revoked(id) {
      for (const s of sinks) await s.revoked(id);
    },
    async disconnect(id) {
      for (const s of sinks) await s.disconnect(id);
    },
    refuses: (id) => sinks.map((s) => s.refuses?.(id)).find((reason) => reason !== undefined),
  };
}
