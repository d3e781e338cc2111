import { execFile, execFileSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createError } from '../core/errors.ts';
import { READING_TOPIC_FILTER } from '../core/topic.ts';
import type { CredentialSink } from '../sensors/credential-sink.ts';

const run = promisify(execFile);

/**
 * Mosquitto 2.0 password file line, as `mosquitto_passwd` writes it:
 * `user:$7$<iterations>$<base64 salt>$<base64 key>`, PBKDF2-HMAC-SHA512,
 * 101 iterations, 12-byte salt, 64-byte key (mosquitto 2.0 src/password_mosq.c;
 * checked against `mosquitto_passwd -b` output here).
 */
export function mosquittoPasswordLine(username: string, password: string, salt: Buffer = randomBytes(12)): string {
  const iterations = 101;
  const key = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `${username}:$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** EVENTS_TOPIC_PREFIX's default (services/config.ts). */
export const DEFAULT_EVENTS_PREFIX = 'kansui/events';

/**
 * The ACL (deny by default: Mosquitto refuses every topic a rule does not
 * grant once an acl_file is set): the ingest user reads every sensor's
 * readings and uses the roles' bus (`<EVENTS_TOPIC_PREFIX>/#`, issue 15);
 * every other user may write only its own reading topic and read
 * under its own id (`%u` = username = sensor id, mosquitto.conf(5) "pattern").
 */
export function mosquittoAcl(ingestUsername: string | undefined, eventsPrefix = DEFAULT_EVENTS_PREFIX): string {
  return [
    '# Written by kansui (services/broker/mosquitto-files.ts); edits are overwritten.',
    // The same login carries the events kansui's roles exchange (issue 15, EVENTS_TOPIC_PREFIX); no sensor may touch them.
    ...(ingestUsername ? [`user ${ingestUsername}`, `topic read ${READING_TOPIC_FILTER}`, `topic readwrite ${eventsPrefix}/#`, ''] : []),
    '# every sensor: its own reading topic only, and may subscribe under its own id (as on the embedded broker)',
    'pattern write flood/%u/reading',
    'pattern read flood/%u/#',
    '',
  ].join('\n');
}

export interface MosquittoFilesOptions {
  passwordFile: string;
  aclFile?: string | undefined;
  /** The ingest's own MQTT user (MQTT_USERNAME): granted read on flood/+/reading, and the bus. */
  ingestUsername?: string | undefined;
  /** EVENTS_TOPIC_PREFIX (default kansui/events). */
  eventsPrefix?: string | undefined;
  /** Mosquitto's pid file: SIGHUP makes it re-read the password and ACL files. */
  pidFile?: string | undefined;
  /** Alternative to the pid file, e.g. `systemctl reload mosquitto` (run with /bin/sh). */
  reloadCommand?: string | undefined;
  /** File mode: Mosquitto drops to user `mosquitto`, which must be able to read (shared/NOTES.md). */
  mode?: number;
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.kansui-${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/**
 * Provision sensors into an external Mosquitto: rewrite the password file
 * (only the sensor's own line; other users such as the ingest user, added
 * with `mosquitto_passwd`, are kept), write the ACL, and signal a reload.
 * Mosquitto 2.0 re-checks connected clients against the reloaded password
 * file and disconnects those that no longer match (verified in
 * test/integration/mosquitto-provisioning.test.ts).
 *
 * Writes are serialised so two provisionings never interleave.
 */
export function mosquittoFilesSink(options: MosquittoFilesOptions): CredentialSink & { reload(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const reload = async () => {
    if (options.reloadCommand && !options.pidFile) await run('/bin/sh', ['-c', options.reloadCommand], { timeout: 10_000 });
    else signalReload(options);
  };
  // The ingest's own line must never be replaced or removed by a sensor of the same name.
  const refuses = (id: string) => (id === options.ingestUsername ? `the MQTT username ${id} belongs to kansui's ingest; choose another sensor id` : undefined);
  const refuseIngest = (id: string) => {
    const reason = refuses(id);
    if (reason) throw createError('conflict', reason, { param: 'id' });
  };
  return {
    refuses,
    reload: () => serial(reload),
    issued: (id, password) => serial(async () => (refuseIngest(id), rewritePasswordFile(options, id, mosquittoPasswordLine(id, password)), reload())),
    revoked: (id) => serial(async () => (refuseIngest(id), rewritePasswordFile(options, id, undefined), reload())),
    // A retired sensor's readings are refused by the ingest (sensor_retired); its login stays until revoked.
    disconnect: async () => {},
  };
}

/** Replace (or with `line` undefined, remove) one user's line; other users are kept. Writes the ACL too. */
function rewritePasswordFile(options: MosquittoFilesOptions, username: string, line: string | undefined): void {
  const mode = options.mode ?? 0o640;
  let text = '';
  try {
    text = readFileSync(options.passwordFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '' && l.slice(0, l.indexOf(':')) !== username);
  if (line) lines.push(line);
  writeAtomically(options.passwordFile, lines.join('\n') + '\n', mode);
  if (options.aclFile) writeAtomically(options.aclFile, mosquittoAcl(options.ingestUsername, options.eventsPrefix), mode);
}

function signalReload(options: MosquittoFilesOptions): void {
  if (options.pidFile) {
    const pid = Number(readFileSync(options.pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${options.pidFile}: no pid in it`);
    process.kill(pid, 'SIGHUP');
  } else if (options.reloadCommand) {
    execFileSync('/bin/sh', ['-c', options.reloadCommand], { timeout: 10_000, stdio: 'ignore' });
  }
}
