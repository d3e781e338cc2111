import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON object a line on stdout (pino), at the configured level. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'kansui' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Log at most `perMinute` lines per key a minute, then one summary of how
 * many were suppressed, so a misbehaving sensor cannot flood the log.
 */
export function createRateLimitedLog(
  log: (key: string, msg: string, fields: Record<string, unknown>) => void,
  options: { perMinute?: number; now?: () => number } = {},
) {
  const perMinute = options.perMinute ?? 10;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  return (key: string, msg: string, fields: Record<string, unknown> = {}): void => {
    const t = now();
    let w = windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (w && w.count > perMinute) log(key, `${w.count - perMinute} similar messages suppressed`, { key });
      w = { start: t, count: 0 };
      windows.set(key, w);
      if (windows.size > 10_000) windows.clear(); // bound memory under id-spraying
      windows.set(key, w);
    }
    if (++w.count <= perMinute) log(key, msg, fields);
  };
}
