import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, in a test process started without --expose-gc
 * (vitest's forks): V8 exposes `gc` to contexts created after the flag is
 * set. Memory assertions measure what is retained, not garbage a loaded
 * machine has not collected yet.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  gc();
}
