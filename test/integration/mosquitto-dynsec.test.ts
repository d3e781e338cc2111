import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMosquittoProvisioning } from '../../services/broker/mosquitto-provisioning.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startDynsecMosquitto, type RunningDynsecMosquitto } from '../helpers/mosquitto.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';
import { runKansuiCli } from '../helpers/cli.ts';

const INGEST = { username: 'kansui-ingest', password: 'ingest-secret-for-dynsec-tests' };

/**
 * Issue 15: the console and the CLI provision sensors in an external Mosquitto
 * through its dynamic-security plugin. The broker here has no password file,
 * ACL file or pid file, so nothing can have been signalled: every change went
 * over MQTT. kansui creates its own ingest login at start.
 */
describe('provisioning into an external Mosquitto (dynamic security, no files, no SIGHUP)', () => {
  let mosquitto: RunningDynsecMosquitto;
  let k: TestKansui;
  let tech: string;
  let env: Record<string, string>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    mosquitto = await startDynsecMosquitto();
    env = {
      MQTT_URL: mosquitto.url,
      MQTT_USERNAME: INGEST.username,
      MQTT_PASSWORD: INGEST.password,
      MQTT_CLIENT_ID: 'kansui-dynsec-ingest',
      MOSQUITTO_DYNSEC: 'true',
      MOSQUITTO_DYNSEC_USERNAME: mosquitto.admin.username,
      MOSQUITTO_DYNSEC_PASSWORD: mosquitto.admin.password,
    };
    k = await startTestKansui(env);
    tech = createTestToken(k, 'dynsec-tech', 'technician');
    await waitFor(() => k.external?.connected(), { what: 'the ingest to connect with the login kansui created' });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await k?.dispose();
    await mosquitto?.stop();
  });

  const connectWhenAccepted = (username: string, password: string) =>
    waitFor(
      () =>
        connectMqtt(mosquitto.url, { username, password }).then(
          (c) => (clients.push(c), c),
          () => undefined,
        ),
      { what: `mosquitto to accept ${username}` },
    );
  const levelOf = async (id: string) => (await (await fetch(`${k.httpUrl}/api/sensors/${id}`)).json()).properties.level_cm;

  it('a sensor registered in the console publishes through Mosquitto at once; rotation cuts it off and refuses the old password; revoke locks it out', async () => {
    const created = await (await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'dyn-1', name: 'ダイナミック1', lat: 34.27, lon: 135.4 } })).json();
    // Applied before the console answered: the first try connects.
    const sensor = await connectMqtt(mosquitto.url, { username: 'dyn-1', password: created.mqtt.password });
    clients.push(sensor);
    await publishReading(sensor, 'dyn-1', { level_cm: 12 });
    await waitFor(async () => (await levelOf('dyn-1')) === 12, { what: 'the reading via mosquitto' });

    const closed = new Promise<void>((r) => sensor.once('close', () => r()));
    const rotated = await (await consoleFetch(k, 'POST', '/api/sensors/dyn-1/credentials', { token: tech })).json();
    await closed; // setClientPassword disconnects the client's sessions
    await expect(connectMqtt(mosquitto.url, { username: 'dyn-1', password: created.mqtt.password })).rejects.toThrow(/not authori[sz]ed/i);
    const fresh = await connectWhenAccepted('dyn-1', rotated.mqtt.password);
    await publishReading(fresh, 'dyn-1', { level_cm: 22 });
    await waitFor(async () => (await levelOf('dyn-1')) === 22, { what: 'a reading after rotation' });

    const gone = new Promise<void>((r) => fresh.once('close', () => r()));
    expect((await consoleFetch(k, 'DELETE', '/api/sensors/dyn-1/credentials', { token: tech })).status).toBe(204);
    await gone;
    await expect(connectMqtt(mosquitto.url, { username: 'dyn-1', password: rotated.mqtt.password })).rejects.toThrow(/not authori[sz]ed/i);
    // The broker's state holds no trace of the sensor any more, and no password file exists to hold one.
    await waitFor(() => !readFileSync(mosquitto.configFile, 'utf8').includes('"dyn-1"'), { what: 'the plugin to save its state without dyn-1' });
    expect(k.external?.connected()).toBe(true);
  });

  it('the CLI (kansui sensor add / rotate) provisions through the plugin too', async () => {
    const added = await runKansuiCli(['sensor', 'add', '--id', 'dyn-cli', '--name', 'CLI', '--lat', '34.2', '--lon', '135.3'], k.dataDir, undefined, env);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const { mqtt } = JSON.parse(added.stdout);
    const c = await connectMqtt(mosquitto.url, { username: 'dyn-cli', password: mqtt.password });
    clients.push(c);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const rotated = await runKansuiCli(['sensor', 'rotate', '--id', 'dyn-cli'], k.dataDir, undefined, env);
    expect(rotated.code).toBe(0);
    await closed;
    const again = await connectMqtt(mosquitto.url, { username: 'dyn-cli', password: JSON.parse(rotated.stdout).mqtt.password });
    clients.push(again);
    await publishReading(again, 'dyn-cli', { level_cm: 31 });
    await waitFor(async () => (await levelOf('dyn-cli')) === 31, { what: 'a reading from the CLI-made sensor' });
  });

  it('a sensor registered with the admin’s name gets no access to the admin client: refused, and the admin keeps its password', async () => {
    const res = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: mosquitto.admin.username, name: '乗っ取り', lat: 34.27, lon: 135.4 } });
    expect(res.status).toBe(409);
    expect(JSON.stringify(await res.json())).not.toMatch(/"password"/);
    // Refused before anything was written.
    expect((await fetch(`${k.httpUrl}/api/sensors/${mosquitto.admin.username}`)).status).toBe(404);
    const cli = await runKansuiCli(['sensor', 'add', '--id', INGEST.username, '--name', 'x', '--lat', '34.2', '--lon', '135.3'], k.dataDir, undefined, env);
    expect(cli.code).toBe(3);
    expect(cli.stderr).toMatch(/belongs to another client/);
    await waitFor(() => k.external?.connected(), { what: 'the ingest to stay connected' });
    const admin = await connectMqtt(mosquitto.url, { ...mosquitto.admin, clientId: 'dynsec-admin-check' });
    admin.end(true);
    // Had such a sensor been registered before kansui used dynamic security, revoking it must not delete the admin either.
    await expect(createMosquittoProvisioning(k.config)!.sink.revoked(mosquitto.admin.username)).rejects.toMatchObject({ code: 'conflict' });
    const still = await connectMqtt(mosquitto.url, { ...mosquitto.admin, clientId: 'dynsec-admin-check-2' });
    still.end(true);
  });

  it('refuses to start without the admin password, naming the variable', async () => {
    await expect(startTestKansui({ ...env, MOSQUITTO_DYNSEC_PASSWORD: '' })).rejects.toThrow(/MOSQUITTO_DYNSEC_PASSWORD/);
  });
});
