import type { Reading } from './reading.ts';
import type { Sensor } from './sensor.ts';

export interface WriteResult {
  /** Readings newly stored. */
  written: number;
  /** Readings already present (same sensor and `observedAt`): stored once, not an error. */
  duplicates: number;
}

export interface RangeQuery {
  sensorId: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Inclusive, epoch ms. */
  to: number;
  /**
   * When set, downsample into buckets of this many ms; each bucket reports its
   * start time and the MAXIMUM level in it, because a flood peak must never be
   * averaged away on a chart.
   */
  bucketMs?: number;
  /** Cap on rows returned (oldest first). */
  limit?: number;
}

export interface RangePoint {
  observedAt: number;
  levelCm: number;
}

/**
 * What a store that buffers locally (the InfluxDB adapter's spool) reports
 * for /metrics. Counters are cumulative since the store was opened.
 */
export interface StoreStats {
  /** Readings durable in the local spool but not yet in the database. */
  spooled: number;
  /** How long (ms) the oldest spooled reading has been waiting; 0 when none. */
  oldestSpooledAgeMs: number;
  /** Failed write requests to the database, by kind (timeout, network, server, …). */
  writeErrors: Record<string, number>;
  /** Readings the database refused one by one, kept in quarantine. */
  quarantined: number;
}

/**
 * What a store reports about its own machinery for the host to log and count
 * (issue 10 #14: the SQLite writer thread). `writer-failed` means the store can
 * no longer make anything durable: the host should exit non-zero so the
 * supervisor (systemd `Restart=`) starts a fresh process.
 */
export type ReadingStoreEvent =
  | { type: 'writer-restarted'; exitCode: number; restartsInWindow: number; resent: number }
  | { type: 'writer-failed'; exitCode: number; restartsInWindow: number; windowS: number; error: Error };

/**
 * Port for the time-series store of readings. Adapters: sqlite (default),
 * influx, memory. All pass test/contract/reading-store.contract.ts.
 */
export interface ReadingStore {
  readonly kind: string;
  /**
   * Store a batch. Resolves only when every reading in it is durable (or
   * durably spooled); a duplicate (sensor, observedAt) is stored once.
   * Rejects only when nothing in the batch could be made durable.
   */
  write(readings: readonly Reading[]): Promise<WriteResult>;
  /** Readings of one sensor in time order. */
  range(query: RangeQuery): Promise<RangePoint[]>;
  /** The newest reading (by observedAt) of every sensor that has one. */
  latest(): Promise<Map<string, Reading>>;
  /** Whether the store answers right now (for /healthz). */
  healthy(): Promise<boolean>;
  /** Spool and error counters, for adapters that buffer locally (optional). */
  stats?(): StoreStats;
  /** Events about the adapter's own machinery (optional; see ReadingStoreEvent). */
  watch?(listener: (event: ReadingStoreEvent) => void): void;
  close(): Promise<void>;
}

export interface SensorCredential {
  /** Hash of the MQTT password (see services/core/credentials.ts). */
  passwordHash: string;
}

/**
 * Port for sensor metadata and credentials. Always SQLite in DATA_DIR in
 * production (the CLI writes it while the service runs); memory in tests.
 * Both pass test/contract/sensor-registry.contract.ts.
 */
export interface SensorRegistry {
  /** Every sensor, sorted by id. An unchanged sensor keeps its object (callers compare identity to find edits). */
  list(): Sensor[];
  get(id: string): Sensor | undefined;
  /** Throws DomainError `conflict` when the id exists. */
  create(sensor: Sensor, credential: SensorCredential): void;
  /** Merge and validate; keeps id and createdAt. Throws DomainError `not_found` for an unknown id. */
  update(id: string, patch: Partial<Omit<Sensor, 'id' | 'createdAt'>>): Sensor;
  /** Replace (or, with null, revoke) the MQTT credential. Throws DomainError `not_found` for an unknown id. */
  setCredential(id: string, credential: SensorCredential | null): void;
  /** Read fresh on every call: a rotation by another process applies at the next CONNECT. */
  getCredential(id: string): SensorCredential | undefined;
  /**
   * Re-read what another process (the CLI) may have changed; cheap when
   * nothing changed. True only when the sensors themselves changed: writes
   * to other tables of the same database never cause a reload.
   */
  refresh(): boolean;
}
