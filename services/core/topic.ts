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

/**
 * Client ids a sensor may use (issue 10 item 4, docs/contract.md): its own id,
 * or its id, `/` and any suffix (a second connection such as a technician's
 * tool). `/` cannot occur in a sensor id (LIMITS.sensorIdPattern), so no
 * sensor's client ids are a prefix of another's — with `-` as the separator
 * `kinokawa` could claim `kinokawa-01`. A session (MQTT 3.1.1 §3.1.2.4) is
 * keyed by client id, so this also binds every session to one username.
 */
export function clientIdBelongsTo(sensorId: string, clientId: string): boolean {
  return clientId === sensorId || (clientId.startsWith(`${sensorId}/`) && clientId.length > sensorId.length + 1);
}

/**
 * Where the embedded broker sends a PUBLISH it refused (not stored, still
 * acknowledged): a `$` topic, which no sensor may subscribe to and which
 * wildcard filters never match [MQTT-4.7.2-1], so it is delivered to no-one.
 */
export const REFUSED_TOPIC = '$kansui/refused';
