import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { makeTempDir } from './kansui.ts';
import { MOSQUITTO } from './mosquitto.ts';
import { getFreePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface NetworkServerBroker {
  url: string;
  /** kansui's login, as an operator would configure it (TTN: `{app}@{tenant}` and an API key). */
  ttnUser: { username: string; password: string };
  chirpstackUser: { username: string; password: string };
  /** Publish as the network server would (QoS 0 for TTN; ChirpStack's integration default is QoS 0 too). */
  publish(topic: string, message: unknown, qos?: 0 | 1): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Debian's Mosquitto playing a LoRaWAN network server's broker (issue 11):
 * the test publishes TTN- and ChirpStack-shaped uplinks as the server would,
 * on the documented topics; kansui's logins may only read them (ACL).
 */
export async function startNetworkServerBroker(): Promise<NetworkServerBroker> {
  const temp = makeTempDir('kansui-ns-broker-');
  const dir = temp.dir;
  const server = { username: 'network-server', password: 'ns-secret-for-tests' };
  const ttnUser = { username: 'kansui-app@ttn', password: 'NNSXS.TESTKEY' };
  const chirpstackUser = { username: 'kansui-chirpstack', password: 'cs-secret-for-tests' };
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  writeFileSync(passwordFile, '');
  for (const u of [server, ttnUser, chirpstackUser]) execFileSync('mosquitto_passwd', ['-b', passwordFile, u.username, u.password]);
  writeFileSync(aclFile, [
    `user ${server.username}`, 'topic write v3/#', 'topic write application/#', '',
    `user ${ttnUser.username}`, `topic read v3/${ttnUser.username}/devices/+/up`, '',
    `user ${chirpstackUser.username}`, 'topic read application/+/device/+/event/+', '',
  ].join('\n'));
  const port = await getFreePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    'user root', 'per_listener_settings false', 'allow_anonymous false',
    `password_file ${passwordFile}`, `acl_file ${aclFile}`, `listener ${port} 127.0.0.1`,
    'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', '',
  ].join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  await waitFor(
    () => new Promise<boolean>((resolve) => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    }),
    { timeoutMs: 10_000, what: 'mosquitto to listen' },
  );
  const url = `mqtt://127.0.0.1:${port}`;
  const publisher = await mqtt.connectAsync(url, { ...server, clientId: 'test-network-server', reconnectPeriod: 0, connectTimeout: 5000 });
  return {
    url,
    ttnUser,
    chirpstackUser,
    async publish(topic, message, qos = 0) {
      await publisher.publishAsync(topic, JSON.stringify(message), { qos });
    },
    async stop() {
      await publisher.endAsync();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      temp.remove();
    },
  };
}
