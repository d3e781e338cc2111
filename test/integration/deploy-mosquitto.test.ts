import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/kansui.ts';
import { MOSQUITTO } from '../helpers/mosquitto.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { getFreePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';

const DEPLOY = fileURLToPath(new URL('../../deploy/mosquitto/', import.meta.url));

/**
 * The Mosquitto configuration we ship (deploy/mosquitto) runs on Debian's
 * Mosquitto 2.0 as written, with only its paths and port moved into a temp dir.
 */
describe('deploy/mosquitto: the shipped broker configuration', () => {
  const temp = makeTempDir('kansui-deploy-mosquitto-');
  let port: number;
  let child: ReturnType<typeof spawn>;

  beforeAll(async () => {
    port = await getFreePort();
    const auth = join(temp.dir, 'auth');
    mkdirSync(auth);
    mkdirSync(join(temp.dir, 'lib'));
    copyFileSync(join(DEPLOY, 'acl'), join(auth, 'acl'));
    writeFileSync(join(auth, 'passwd'), '');
    execFileSync('mosquitto_passwd', ['-b', join(auth, 'passwd'), 'kansui-ingest', 'ingest-pw']);
    execFileSync('mosquitto_passwd', ['-b', join(auth, 'passwd'), 'river-01', 'sensor-pw']);
    const conf = readFileSync(join(DEPLOY, 'kansui.conf'), 'utf8')
      .replaceAll('/etc/mosquitto/kansui', auth)
      .replaceAll('/var/lib/mosquitto/', join(temp.dir, 'lib') + '/')
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
    // As root Mosquitto would drop to user `mosquitto` and fail to read the temp files (shared/NOTES.md).
    writeFileSync(join(temp.dir, 'mosquitto.conf'), `user root\n${conf}`);
    child = spawn(MOSQUITTO, ['-c', join(temp.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const s = connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      { what: 'mosquitto with the deploy config to listen' },
    );
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    temp.remove();
  });

  it('lets a sensor write only its own topic and the ingest read them all; refuses anonymous clients and oversize messages', async () => {
    const url = `mqtt://127.0.0.1:${port}`;
    await expect(connectMqtt(url)).rejects.toThrow(/not authori[sz]ed/i);
    const ingest = await connectMqtt(url, { username: 'kansui-ingest', password: 'ingest-pw', clientId: 'deploy-ingest' });
    const got: string[] = [];
    ingest.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
    await ingest.subscribeAsync('flood/+/reading', { qos: 1 });
    const sensor = await connectMqtt(url, { username: 'river-01', password: 'sensor-pw' });
    await sensor.publishAsync('flood/river-02/reading', '{"level_cm":1}', { qos: 1 });
    await sensor.publishAsync('flood/river-01/reading', 'x'.repeat(20_000), { qos: 1 }).catch(() => {});
    const again = sensor.connected ? sensor : await connectMqtt(url, { username: 'river-01', password: 'sensor-pw' });
    await again.publishAsync('flood/river-01/reading', '{"level_cm":2}', { qos: 1 });
    await waitFor(() => got.length > 0, { what: 'the permitted reading' });
    expect(got).toEqual(['flood/river-01/reading {"level_cm":2}']);
    await Promise.all([ingest.endAsync(), again.endAsync()]);
  });
});
