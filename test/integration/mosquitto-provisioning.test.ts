import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoPasswordLine } from '../../services/broker/mosquitto-files.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';
import { runKansuiCli } from '../helpers/cli.ts';

const INGEST = { username: 'kansui-ingest', password: 'ingest-secret-for-provisioning-tests' };

describe('provisioning into an external Mosquitto (password file + ACL + SIGHUP)', () => {
  let mosquitto: RunningMosquitto;
  let k: TestKansui;
  let tech: string;
  let mosquittoEnv: Record<string, string>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    mosquitto = await startMosquitto({ ingestUser: INGEST });
    const pidFile = join(mosquitto.dir, 'mosquitto.pid');
    writeFileSync(pidFile, String(mosquitto.process.pid));
    mosquittoEnv = {
      MQTT_URL: mosquitto.url,
      MQTT_USERNAME: INGEST.username,
      MQTT_PASSWORD: INGEST.password,
      MQTT_CLIENT_ID: 'kansui-prov-ingest',
      MOSQUITTO_PASSWORD_FILE: mosquitto.passwordFile,
      MOSQUITTO_ACL_FILE: mosquitto.aclFile,
      MOSQUITTO_PID_FILE: pidFile,
    };
    k = await startTestKansui(mosquittoEnv);
    tech = createTestToken(k, 'mosq-tech', 'technician');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await k?.stop();
    await mosquitto?.stop();
  });

  const connectWhenAccepted = (username: string, password: string) =>
    waitFor(
      () =>
        connectMqtt(mosquitto.url, { username, password }).then(
          (c) => (clients.push(c), c),
          () => undefined,
        ),
      { what: `mosquitto to accept ${username} after reload` },
    );

  it('writes lines mosquitto_passwd would accept (PBKDF2-SHA512, $7$)', () => {
    const line = mosquittoPasswordLine('probe', 'some password');
    expect(line).toMatch(/^probe:\$7\$101\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/);
  });

  it('a sensor registered in the console can publish through Mosquitto at once; rotation cuts it off and locks out the old password; revoke locks it out', async () => {
    const created = await (await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'mosq-1', name: 'モスキート1', lat: 34.27, lon: 135.4 } })).json();
    expect(readFileSync(mosquitto.passwordFile, 'utf8')).toMatch(/^kansui-ingest:/m); // the ingest user is kept
    const acl = readFileSync(mosquitto.aclFile, 'utf8');
    expect(acl).toContain('pattern write flood/%u/reading');
    expect(acl).toMatch(/user kansui-ingest\ntopic read flood\/\+\/reading/);

    const sensor = await connectWhenAccepted('mosq-1', created.mqtt.password);
    await publishReading(sensor, 'mosq-1', { level_cm: 12 });
    await waitFor(async () => (await (await fetch(`${k.httpUrl}/api/sensors/mosq-1`)).json()).properties.level_cm === 12, { what: 'reading via mosquitto' });

    // The broker's own tool agrees with our password line.
    expect(() => execFileSync('mosquitto_pub', ['-p', String(mosquitto.port), '-u', 'mosq-1', '-P', created.mqtt.password, '-t', 'flood/mosq-1/reading', '-q', '1', '-m', '{"level_cm":13}'])).not.toThrow();

    const closed = new Promise<void>((r) => sensor.once('close', () => r()));
    const rotated = await (await consoleFetch(k, 'POST', '/api/sensors/mosq-1/credentials', { token: tech })).json();
    await closed; // Mosquitto re-checks connected clients on reload and drops this one
    const fresh = await connectWhenAccepted('mosq-1', rotated.mqtt.password);
    await expect(connectMqtt(mosquitto.url, { username: 'mosq-1', password: created.mqtt.password })).rejects.toThrow();
    await publishReading(fresh, 'mosq-1', { level_cm: 22 });
    await waitFor(async () => (await (await fetch(`${k.httpUrl}/api/sensors/mosq-1`)).json()).properties.level_cm === 22, { what: 'reading after rotation' });

    const gone = new Promise<void>((r) => fresh.once('close', () => r()));
    expect((await consoleFetch(k, 'DELETE', '/api/sensors/mosq-1/credentials', { token: tech })).status).toBe(204);
    await gone;
    await expect(connectMqtt(mosquitto.url, { username: 'mosq-1', password: rotated.mqtt.password })).rejects.toThrow();
    expect(readFileSync(mosquitto.passwordFile, 'utf8')).not.toMatch(/^mosq-1:/m);
  });
  it('the CLI (kansui sensor add / rotate) provisions into Mosquitto too', async () => {
    const added = await runKansuiCli(['sensor', 'add', '--id', 'mosq-cli', '--name', 'CLI', '--lat', '34.2', '--lon', '135.3'], k.dataDir, undefined, mosquittoEnv);
    expect(added.stderr).toBe('');
    const { mqtt } = JSON.parse(added.stdout);
    const c = await connectWhenAccepted('mosq-cli', mqtt.password);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const rotated = await runKansuiCli(['sensor', 'rotate', '--id', 'mosq-cli'], k.dataDir, undefined, mosquittoEnv);
    expect(rotated.code).toBe(0);
    await closed;
    await connectWhenAccepted('mosq-cli', JSON.parse(rotated.stdout).mqtt.password);
  });
});
