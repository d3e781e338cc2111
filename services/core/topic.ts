import { LIMITS } from './limits.ts';

/** Topic a sensor publishes readings to (contract): `flood/{sensorId}/reading`. */
export const READING_TOPIC_FILTER = 'flood/+/reading';

export function readingTopic(sensorId: string): string {
  return `flood/${sensorId}/reading`;
}

/** The sensor id in a reading topic, or undefined when the topic has another shape. */
export function parseReadingTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'flood' || parts[2] !== 'reading') return undefined;
  const id = parts[1] as string;
  return LIMITS.sensorIdPattern.test(id) ? id : undefined;
}

/**
 * Topics a sensor may subscribe to: only under its own id (e.g. a future
 * `flood/{id}/config`), never another sensor's, `#`, or `$SYS`.
 */
export function maySubscribe(sensorId: string, filter: string): boolean {
  return filter === `flood/${sensorId}/#` || (filter.startsWith(`flood/${sensorId}/`) && !/[+#]/.test(filter));
}
