import { createInfluxReadingStore } from '../../services/storage/influx-reading-store.ts';
import { createMemoryReadingStore } from '../../services/storage/memory-reading-store.ts';
import { createSqliteReadingStore } from '../../services/storage/sqlite-reading-store.ts';
import { startInfluxd, type RunningInfluxd } from '../helpers/influxd.ts';
import { describeReadingStoreContract } from './reading-store.contract.ts';

describeReadingStoreContract({
  name: 'memory',
  open: async () => createMemoryReadingStore(),
  durable: false,
  countsDuplicates: true,
});

describeReadingStoreContract({
  name: 'sqlite',
  open: async (dataDir) => createSqliteReadingStore({ dataDir }),
  durable: true,
  countsDuplicates: true,
});

// The same store committing on the calling thread instead of its writer thread.
describeReadingStoreContract({
  name: 'sqlite (inline writer)',
  open: async (dataDir) => createSqliteReadingStore({ dataDir, writer: 'inline' }),
  durable: true,
  countsDuplicates: true,
});

// A real influxd (Debian's 1.6) per file; one database per test so tests never see each other's points.
let influx: RunningInfluxd | undefined;
describeReadingStoreContract({
  name: 'influx',
  async setup() {
    influx = await startInfluxd();
  },
  async teardown() {
    await influx?.stop();
  },
  async open(dataDir, key) {
    const server = influx as RunningInfluxd;
    await server.query(`CREATE DATABASE "${key}"`, '');
    return createInfluxReadingStore({ dataDir, url: server.url, database: key });
  },
  durable: true,
  countsDuplicates: false,
});
