import type { ReadingStore } from '../core/ports.ts';
import { createSqliteReadingStore } from './sqlite-reading-store.ts';

export interface StoreConfig {
  STORE: 'sqlite' | 'influx';
  DATA_DIR: string;
}

/** Build the configured ReadingStore adapter. */
export async function createReadingStore(config: StoreConfig): Promise<ReadingStore> {
  switch (config.STORE) {
    case 'sqlite':
      return createSqliteReadingStore({ dataDir: config.DATA_DIR });
    case 'influx':
      throw new Error('STORE=influx is not available yet');
  }
}
