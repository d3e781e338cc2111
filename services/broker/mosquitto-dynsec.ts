import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { READING_TOPIC_FILTER, readingTopic } from '../core/topic.ts';
import { createError } from '../core/errors.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';

/** Mosquitto 2.0 dynamic-security plugin: commands in, responses out (mosquitto.org/documentation/dynamic-security). */
const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

/** The role every sensor gets, one per sensor: Mosquitto 2.0.11's plugin does not substitute %u in ACL topics (checked here). */
export const sensorRoleName = (sensorId: string) => `kansui-sensor-${sensorId}`;
/** The ingest's role: read every sensor's readings. */
export const INGEST_ROLE = 'kansui-ingest';

export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}

interface DynsecResponse {
  command: string;
  error?: string;
  correlationData?: string;
  data?: unknown;
}

export interface MosquittoDynsecOptions {
  /** The broker (normally MQTT_URL). */
  url: string;
  /** A client with the plugin's admin role (`mosquitto_ctrl dynsec init` makes one). */
  username: string;
  password: string;
  /** The ingest's own MQTT login: `prepareIngest()` creates it (when missing) with a role that reads flood/+/reading. */
  ingest?: { username: string; password?: string | undefined; /** EVENTS_TOPIC_PREFIX: the roles' bus (issue 15). */ eventsPrefix?: string | undefined } | undefined;
  /** Deadline for one command's response. */
  timeoutMs?: number;
}

export interface MosquittoDynsec extends CredentialSink {
  /** Create the ingest's role, and its client if it is missing (an existing client keeps its password: other workers may be using it). */
  prepareIngest(): Promise<void>;
  /** Send commands in one message; resolves with the responses in order (errors are returned, not thrown). */
  send(commands: DynsecCommand[]): Promise<DynsecResponse[]>;
  close(): Promise<void>;
}

/** The plugin's answer when the thing already exists or is already gone: fine for an idempotent step. */
const isAlready = (r: DynsecResponse) => /already|not found/i.test(r.error ?? '');

function check(responses: DynsecResponse[], tolerate: (r: DynsecResponse) => boolean = () => false): void {
  const failed = responses.find((r) => r.error && !tolerate(r));
  if (failed) throw new Error(`mosquitto dynamic security: ${failed.command}: ${failed.error}`);
}

/**
 * Provision sensors in an external Mosquitto through its dynamic-security
 * plugin instead of a password file and SIGHUP: nothing to signal across
 * containers or hosts, and two writers cannot lose each other's lines (the
 * broker applies each command itself).
 *
 * A sensor is a client (username = sensor id) with its own role: publish only
 * `flood/<id>/reading`, subscribe only under `flood/<id>/` (as the embedded
 * broker allows, services/core/topic.ts). `setClientPassword` and
 * `deleteClient` make the plugin disconnect the client's live sessions
 * (checked with Mosquitto 2.0.11, test/contract/mosquitto-provisioning.test.ts),
 * so a rotated or revoked sensor is cut off at once.
 *
 * One admin connection, opened on first use and kept (mqtt.js reconnects it).
 */
export function mosquittoDynsecSink(options: MosquittoDynsecOptions): MosquittoDynsec {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pending = new Map<string, { resolve: (r: DynsecResponse) => void }>();
  let connecting: Promise<MqttClient> | undefined;

  const connection = (): Promise<MqttClient> =>
    (connecting ??= open().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    }));
  const open = async (): Promise<MqttClient> => {
      const client = mqtt.connect(options.url, {
        username: options.username,
        password: options.password,
        clientId: `kansui-dynsec-${randomUUID().slice(0, 8)}`,
        protocolVersion: 4,
        reconnectPeriod: 1000,
        connectTimeout: timeoutMs,
      });
      client.on('message', (_topic, payload) => {
        let body: { responses?: DynsecResponse[] };
        try {
          body = JSON.parse(payload.toString('utf8'));
        } catch {
          return;
        }
        for (const r of body.responses ?? []) {
          const waiter = r.correlationData === undefined ? undefined : pending.get(r.correlationData);
          if (waiter) waiter.resolve(r);
        }
      });
      // The subscription is re-made on every (re)connect: a clean session forgets it.
      client.on('connect', () => void client.subscribe(RESPONSE_TOPIC, { qos: 1 }));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => fail(new Error(`mosquitto dynamic security: no connection to ${options.url} within ${timeoutMs} ms`)), timeoutMs);
        const fail = (err: Error) => {
          clearTimeout(timer);
          client.end(true);
          reject(err);
        };
        client.once('connect', () => (clearTimeout(timer), resolve()));
        client.once('error', (err) => fail(new Error(`mosquitto dynamic security: ${err.message} (MOSQUITTO_DYNSEC_USERNAME must have the plugin's admin role)`, { cause: err })));
      });
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 }).catch((err: unknown) => {
        client.end(true);
        throw err;
      });
      return client;
  };

  async function send(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const client = await connection();
    const tagged = commands.map((c) => ({ ...c, correlationData: randomUUID() }));
    const answers = tagged.map(
      (c) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(c.correlationData);
            reject(new Error(`mosquitto dynamic security: no answer to ${c.command} within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(c.correlationData, {
            resolve: (r) => {
              clearTimeout(timer);
              pending.delete(c.correlationData);
              resolve(r);
            },
          });
        }),
    );
    await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    return Promise.all(answers);
  }

  /**
   * Whose broker client is this username? kansui touches only clients it made
   * for that sensor (they hold the sensor's role): a sensor registered as
   * `admin` or as the ingest's username must never reset that client's
   * password (the technician would be shown it) or delete it.
   */
  async function ownership(username: string): Promise<'none' | 'sensor' | 'other'> {
    const [found] = await send([{ command: 'getClient', username }]);
    if (found?.error && /not found/i.test(found.error)) return 'none';
    check(found ? [found] : []);
    const roles = (found?.data as { client?: { roles?: { rolename: string }[] } } | undefined)?.client?.roles ?? [];
    return roles.some((r) => r.rolename === sensorRoleName(username)) ? 'sensor' : 'other';
  }
  const reserved = new Set([options.username, ...(options.ingest ? [options.ingest.username] : [])]);
  const refusalText = (id: string) => `the MQTT username ${id} belongs to another client of the broker; choose another sensor id`;
  const refusal = (id: string) => createError('conflict', refusalText(id), { param: 'id' });
  const refuseReserved = (id: string) => {
    if (reserved.has(id)) throw refusal(id);
  };

  /** Give a client a role unless it has it already. */
  async function ensureRole(username: string, rolename: string): Promise<void> {
    const [found] = await send([{ command: 'getClient', username }]);
    check(found ? [found] : []);
    const roles = (found?.data as { client?: { roles?: { rolename: string }[] } } | undefined)?.client?.roles ?? [];
    if (!roles.some((r) => r.rolename === rolename)) check(await send([{ command: 'addClientRole', username, rolename, priority: 0 }]));
  }

  const sensorRole = (id: string): DynsecCommand => ({
    command: 'createRole',
    rolename: sensorRoleName(id),
    textname: `kansui sensor ${id}`,
    acls: [
      { acltype: 'publishClientSend', topic: readingTopic(id), priority: 0, allow: true },
      { acltype: 'subscribePattern', topic: `flood/${id}/#`, priority: 0, allow: true },
      { acltype: 'publishClientReceive', topic: `flood/${id}/#`, priority: 0, allow: true },
    ],
  });

  return {
    send,
    refuses: (id) => (reserved.has(id) ? refusalText(id) : undefined),
    async issued(id, password) {
      refuseReserved(id);
      // Role first (idempotent), then the client: created, or its password replaced (which cuts its sessions).
      check(await send([sensorRole(id)]), isAlready);
      const [created] = await send([{ command: 'createClient', username: id, password, textname: `kansui sensor ${id}`, roles: [{ rolename: sensorRoleName(id), priority: 0 }] }]);
      if (!created?.error) return;
      if (!/already/i.test(created.error)) check([created]);
      // An existing client: rotate it only if kansui made it for this sensor (see ownedBy).
      if ((await ownership(id)) !== 'sensor') throw refusal(id);
      check(await send([{ command: 'setClientPassword', username: id, password }, { command: 'enableClient', username: id }]));
    },
    async revoked(id) {
      refuseReserved(id);
      const owner = await ownership(id);
      if (owner === 'other') throw refusal(id);
      // deleteClient disconnects the client's sessions (Mosquitto 2.0 dynamic-security plugin).
      check(await send([...(owner === 'sensor' ? [{ command: 'deleteClient', username: id }] : []), { command: 'deleteRole', rolename: sensorRoleName(id) }]), isAlready);
    },
    // A retired sensor's readings are refused by the ingest (sensor_retired); its login stays until revoked, as in file mode.
    disconnect: async () => {},
    async prepareIngest() {
      const ingest = options.ingest;
      if (!ingest) return;
      const acls = [
        { acltype: 'subscribePattern', topic: READING_TOPIC_FILTER, priority: 0, allow: true },
        // Several ingest workers share the readings through a shared subscription (issue 15); the
        // 2.0.11 plugin checks the whole `$share/<group>/…` filter, so it needs its own rule (checked here).
        { acltype: 'subscribePattern', topic: `$share/+/${READING_TOPIC_FILTER}`, priority: 0, allow: true },
        { acltype: 'publishClientReceive', topic: READING_TOPIC_FILTER, priority: 0, allow: true },
        // The same login carries the events kansui's roles exchange (issue 15); sensors' roles never grant it.
        ...[`${ingest.eventsPrefix ?? 'kansui/events'}/#`].flatMap((topic) => [
          { acltype: 'publishClientSend', topic, priority: 0, allow: true },
          { acltype: 'subscribePattern', topic, priority: 0, allow: true },
          { acltype: 'publishClientReceive', topic, priority: 0, allow: true },
        ]),
      ];
      const [role] = await send([{ command: 'createRole', rolename: INGEST_ROLE, textname: 'kansui ingest: reads every sensor reading', acls }]);
      if (role?.error && !/already/i.test(role.error)) check([role]);
      // A role made by an older kansui gets the rules it lacks (an existing rule answers "already exists").
      if (role?.error) check(await send(acls.map((acl) => ({ command: 'addRoleACL', rolename: INGEST_ROLE, ...acl }))), isAlready);
      const [created] = await send([
        {
          command: 'createClient',
          username: ingest.username,
          ...(ingest.password !== undefined && { password: ingest.password }),
          textname: 'kansui ingest',
          roles: [{ rolename: INGEST_ROLE, priority: 0 }],
        },
      ]);
      if (created?.error && !/already/i.test(created.error)) check([created]);
      if (created?.error) await ensureRole(ingest.username, INGEST_ROLE);
    },
    async close() {
      const c = connecting;
      connecting = undefined;
      if (!c) return;
      const client = await c.catch(() => undefined);
      await client?.endAsync();
    },
  };
}
