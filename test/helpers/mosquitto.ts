import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFreePort } from './ports.ts';
import { makeTempDir } from './kansui.ts';
import { waitFor } from './wait.ts';

export interface MosquittoUser {
  username: string;
  password: string;
}

export interface RunningMosquitto {
  url: string;
  port: number;
  dir: string;
  passwordFile: string;
  aclFile: string;
  process: ChildProcess;
  /** Add or replace a user in the password file and make the broker reload it (SIGHUP). */
  addUser(user: MosquittoUser): Promise<void>;
  /** SIGHUP: re-read password and ACL files. */
  reload(): void;
  stop(): Promise<void>;
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

/**
 * Debian's Mosquitto 2.0 on a free loopback port with a temp config:
 * password file + ACL (deny by default; a sensor may write only
 * flood/<its username>/reading; `ingestUser` may read flood/+/reading and
 * use the roles' bus, kansui/events/#).
 * `user root` because as root it would otherwise drop to user mosquitto
 * and fail to open the root-owned files (shared/NOTES.md).
 */
export async function startMosquitto(options: { ingestUser: MosquittoUser; sensors?: MosquittoUser[]; maxQueued?: number }): Promise<RunningMosquitto> {
  const temp = makeTempDir('kansui-mosquitto-');
  const dir = temp.dir;
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  const users = [options.ingestUser, ...(options.sensors ?? [])];
  writeFileSync(passwordFile, '');
  for (const u of users) execFileSync('mosquitto_passwd', ['-b', passwordFile, u.username, u.password]);
  writeFileSync(
    aclFile,
    [
      `user ${options.ingestUser.username}`,
      'topic read flood/+/reading',
      '# the bus between kansui roles (issue 15, EVENTS_TOPIC_PREFIX)',
      'topic readwrite kansui/events/#',
      '',
      '# every other authenticated client: its own reading topic only',
      'pattern write flood/%u/reading',
      '',
    ].join('\n'),
  );
  const port = await getFreePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConf(port, [`password_file ${passwordFile}`, `acl_file ${aclFile}`], options.maxQueued));
  const child = await launchMosquitto(conf, port);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    passwordFile,
    aclFile,
    process: child,
    async addUser(u) {
      execFileSync('mosquitto_passwd', ['-b', passwordFile, u.username, u.password]);
      child.kill('SIGHUP');
    },
    reload: () => void child.kill('SIGHUP'),
    stop: () => stopMosquitto(child, temp.remove),
  };
}

async function stopMosquitto(child: ChildProcess, remove: () => void): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  remove();
}

/** Start Mosquitto on `conf` and resolve once it accepts TCP connections on `port`. */
async function launchMosquitto(conf: string, port: number): Promise<ChildProcess> {
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    { timeoutMs: 10_000, what: 'mosquitto to listen' },
  );
  return child;
}

/** The dynamic-security plugin Debian's mosquitto package ships (`dpkg -L mosquitto | grep dynamic`). */
export function findDynsecPlugin(): string | undefined {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']) {
    const path = join(dir, 'mosquitto_dynamic_security.so');
    if (existsSync(path)) return path;
  }
  return undefined;
}

export interface RunningDynsecMosquitto {
  url: string;
  port: number;
  dir: string;
  /** The plugin's state file (`mosquitto_ctrl dynsec init` wrote it). */
  configFile: string;
  admin: MosquittoUser;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Debian's Mosquitto 2.0 with its dynamic-security plugin and no password
 * file, ACL file or pid file: clients and roles exist only through
 * `$CONTROL/dynamic-security/v1`. The state file comes from
 * `mosquitto_ctrl dynsec init` (admin client only).
 */
export async function startDynsecMosquitto(options: { admin?: MosquittoUser } = {}): Promise<RunningDynsecMosquitto> {
  const plugin = findDynsecPlugin();
  if (!plugin) throw new Error('mosquitto_dynamic_security.so not found (Debian package mosquitto)');
  const temp = makeTempDir('kansui-dynsec-');
  const admin = options.admin ?? { username: 'dynsec-admin', password: 'dynsec-admin-secret-for-tests' };
  const configFile = join(temp.dir, 'dynamic-security.json');
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', configFile, admin.username, admin.password], { stdio: 'ignore' });
  const port = await getFreePort();
  const conf = join(temp.dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConf(port, [`plugin ${plugin}`, `plugin_opt_config_file ${configFile}`]));
  const child = await launchMosquitto(conf, port);
  return { url: `mqtt://127.0.0.1:${port}`, port, dir: temp.dir, configFile, admin, process: child, stop: () => stopMosquitto(child, temp.remove) };
}

/** A private Mosquitto on loopback `port`: no anonymous clients, authenticated by `auth` (password/ACL files or a plugin). */
function mosquittoConf(port: number, auth: string[], maxQueued = 100_000): string {
  return [
    'user root',
    'per_listener_settings false',
    'allow_anonymous false',
    ...auth,
    `listener ${port} 127.0.0.1`,
    'persistence false',
    `max_queued_messages ${maxQueued}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}
